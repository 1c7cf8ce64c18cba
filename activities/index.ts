/**
 * Every activity the `cpu` queue serves, bound to one worker's dependencies (Temporal's usual
 * `createActivities(deps)` shape). The workflows see them only through `SweepActivities`.
 * The `gpu` queue's curvature activity lives in curvature.ts (it loads tfjs; not imported here).
 */
import type { PlanActivities } from '../contracts/plan.ts';
import type { ScheduleActivities } from '../contracts/schedule.ts';
import type { SweepActivities } from '../contracts/sweep.ts';
import { createCheckpointActivities } from './checkpoint.ts';
import { createCurvaturePlanActivities } from './curvature-plan.ts';
import type { ActivityDeps } from './deps.ts';
import { createGpuRoutingActivities } from './gpu-routing.ts';
import { createLayerActivities } from './layer.ts';
import { createPlanActivities } from './plan.ts';
import { createScheduleActivities } from './schedule.ts';
import { createSweepLevelActivities } from './sweep.ts';

export { type ActivityDeps, type ActivityServices, createActivityDeps } from './deps.ts';

/** The spectral activities a `gpu` worker serves beside curvature: the layer batches routed to it. */
export function gpuSpectralActivities(deps: ActivityDeps) {
  const { analyzeLayerBatch } = createLayerActivities(deps);
  return { analyzeLayerBatch };
}

export function createSweepActivities(
  deps: ActivityDeps,
): SweepActivities & ScheduleActivities & PlanActivities {
  return {
    ...createSweepLevelActivities(deps),
    ...createCheckpointActivities(deps),
    ...createLayerActivities(deps),
    ...createCurvaturePlanActivities(deps),
    ...createScheduleActivities(deps),
    ...createGpuRoutingActivities(),
    ...createPlanActivities(deps),
  };
}
