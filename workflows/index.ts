/** The workflow bundle's entry: every workflow type the workers register. */
export { checkpointWorkflow } from './checkpoint.ts';
export { planWorkflow } from './plan.ts';
export { progressQuery } from './queries.ts';
export { scheduledSweepWorkflow } from './scheduled-sweep.ts';
export { sweepWorkflow } from './sweep.ts';
