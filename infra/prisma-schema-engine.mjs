#!/usr/bin/env node
// PRISMA_SCHEMA_ENGINE_BINARY points here: the Prisma CLI spawns this instead of downloading its
// native schema engine. The TypeScript implementation is infra/prisma-engine/shim.ts.
import { register } from 'tsx/esm/api';

register();
await import('./prisma-engine/shim.ts');
