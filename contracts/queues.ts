/**
 * Task queues: spectral work and all workflows on `cpu`; curvature on `gpu`, served by
 * `weightlens worker --queue gpu` processes (tfjs-node-gpu when it loads, CPU backends otherwise).
 */
export const TASK_QUEUES = { cpu: 'weightlens-cpu', gpu: 'weightlens-gpu' } as const;
export type QueueKind = keyof typeof TASK_QUEUES;
