export { createPrismaClient, Prisma, type PrismaClient } from './client.ts';
