/**
 * CurvatureResult rows, one per (checkpoint, curvature configuration): the gpu activity stores its
 * result or failure, the cpu-queue planner its skips and the failures the gpu side could not record.
 */
import type { Prisma, PrismaClient } from './client.ts';

export interface CurvatureKey {
  checkpointId: string;
  configHash: string;
}

/** A row's columns besides its key. */
export type CurvatureRow = Omit<
  Prisma.CurvatureResultUncheckedCreateInput,
  'id' | 'checkpointId' | 'configHash'
>;

export async function findCurvatureResult(prisma: PrismaClient, key: CurvatureKey) {
  return prisma.curvatureResult.findUnique({ where: { checkpointId_configHash: key } });
}

/** The row's status and finality only (its result columns can be large). */
export async function curvatureResultStatus(prisma: PrismaClient, key: CurvatureKey) {
  return prisma.curvatureResult.findUnique({
    where: { checkpointId_configHash: key },
    select: { status: true, errorFinal: true },
  });
}

/** Creates the key's row or overwrites the columns `row` names (a column it leaves out is kept). */
export async function storeCurvatureResult(
  prisma: PrismaClient,
  key: CurvatureKey,
  row: CurvatureRow,
): Promise<void> {
  await prisma.curvatureResult.upsert({
    where: { checkpointId_configHash: key },
    create: { ...key, ...row },
    update: row,
  });
}
