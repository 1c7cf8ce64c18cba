/**
 * Prometheus metrics of a worker process (prom-client): Node's process metrics plus one count and
 * one duration per activity execution, and failures by the error's type (the same type that marks
 * bad input non-retryable), recorded by a Temporal activity interceptor so no activity changes.
 */
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  Next,
} from '@temporalio/worker';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  activities: Counter<'activity' | 'queue' | 'outcome'>;
  activitySeconds: Histogram<'activity' | 'queue'>;
  failures: Counter<'activity' | 'queue' | 'reason'>;
  /** For Worker.create({ interceptors: { activity: [metrics.activityInterceptors(queue)] } }). */
  activityInterceptors(queue: string): ActivityInterceptorsFactory;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'weightlens_worker_' });
  const metrics: WorkerMetrics = {
    registry,
    activityInterceptors: (queue) => (ctx) => ({
      inbound: new ActivityMetricsInterceptor(metrics, ctx.info.activityType, queue),
    }),
    activities: new Counter({
      name: 'weightlens_activities_total',
      help: 'Activity executions finished, by activity type, task queue and outcome (completed, failed)',
      labelNames: ['activity', 'queue', 'outcome'],
      registers: [registry],
    }),
    activitySeconds: new Histogram({
      name: 'weightlens_activity_seconds',
      help: 'Wall time of one activity execution, by activity type and task queue',
      labelNames: ['activity', 'queue'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'weightlens_activity_failures_total',
      help: 'Failed activity executions by activity type, task queue and error type (BadInputError, TransientError, ...)',
      labelNames: ['activity', 'queue', 'reason'],
      registers: [registry],
    }),
  };
  return metrics;
}

/** The error's type name (ApplicationFailure carries it in `type`), for the failures' reason label. */
export function failureReason(err: unknown): string {
  if (err && typeof err === 'object') {
    const type = (err as { type?: unknown }).type;
    if (typeof type === 'string' && type) return type;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name;
  }
  return 'unknown';
}

export class ActivityMetricsInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly metrics: WorkerMetrics,
    private readonly activity: string,
    private readonly queue: string,
  ) {}

  async execute(
    input: ActivityExecuteInput,
    next: Next<ActivityInboundCallsInterceptor, 'execute'>,
  ): Promise<unknown> {
    const labels = { activity: this.activity, queue: this.queue };
    const stop = this.metrics.activitySeconds.startTimer(labels);
    try {
      const result = await next(input);
      this.metrics.activities.inc({ ...labels, outcome: 'completed' });
      return result;
    } catch (err) {
      this.metrics.activities.inc({ ...labels, outcome: 'failed' });
      this.metrics.failures.inc({ ...labels, reason: failureReason(err) });
      throw err;
    } finally {
      stop();
    }
  }
}
