/**
 * Every activity the `cpu` queue serves, bound to one worker's dependencies (Temporal's usual
 * `createActivities(deps)` shape). The workflows see them only through `SweepActivities`.
 */
import type { SweepActivities } from '../workflows/types.ts';
import { createCheckpointActivities } from './checkpoint.ts';
import type { ActivityDeps } from './deps.ts';
import { createLayerActivities } from './layer.ts';
import { createSweepLevelActivities } from './sweep.ts';

export { type ActivityDeps, type ActivityServices, createActivityDeps } from './deps.ts';

export function createSweepActivities(deps: ActivityDeps): SweepActivities {
  return {
    ...createSweepLevelActivities(deps),
    ...createCheckpointActivities(deps),
    ...createLayerActivities(deps),
  };
}
