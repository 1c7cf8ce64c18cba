/**
 * Activities of scheduled sweeps: record a run as a Sweep row, and evaluate/deliver alert rules.
 * Delivery is at-least-once with an idempotency key per alert (rule × checkpoint): a receiver that
 * sees the same key twice has seen the same alert.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ScheduleActivities } from '../contracts/schedule.ts';
import { alertCheckpoints, markAlertDelivery, recordAlerts, undeliveredAlerts } from '../db/schedules.ts';
import { createSweep } from '../db/sweeps.ts';
import { evaluateAlertRules, parseAlertRule } from '../lib/alerts/rules.ts';
import { alertVocabulary } from '../lib/alerts/vocabulary.ts';
import { isBadInput } from '../lib/errors.ts';
import { recordSchedule } from '../workers/schedule-client.ts';
import type { ActivityDeps } from './deps.ts';
import { mappingFailures } from './failures.ts';

const WEBHOOK_TIMEOUT_MS = 10_000;

export interface AlertPayload {
  schedule: string;
  rule: string;
  checkpoint: { id: string; uri: string; step: number | null };
  value: number;
  message: string;
  sweepId: string;
  firedAt: string;
}

async function post(webhook: string, id: string, payload: AlertPayload): Promise<string | null> {
  try {
    const response = await fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': id },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok ? null : `webhook answered HTTP ${response.status}`;
  } catch (err) {
    return `webhook unreachable: ${(err as Error).message}`;
  }
}

export function createScheduleActivities(deps: ActivityDeps): ScheduleActivities {
  return {
    recordScheduledSweep: (input) =>
      mappingFailures(async () => {
        // Idempotent: a retried local activity finds its row.
        const existing = await deps.prisma.sweep.findUnique({ where: { id: input.sweepId } });
        if (!existing)
          await createSweep(deps.prisma, {
            id: input.sweepId,
            name: `${input.scheduleName}-${input.sweepId}`,
            workflowId: input.workflowId,
            sources: input.sources,
            config: JSON.parse(JSON.stringify(input.config)),
            configHash: input.configHash,
            scheduleName: input.scheduleName,
          });
        // The dashboard's last/next run; a schedule deleted meanwhile is simply not recorded.
        try {
          await recordSchedule(Context.current().client, deps.prisma, input.scheduleName);
        } catch (err) {
          if (!isBadInput(err)) throw err;
        }
      }),

    evaluateScheduleAlerts: (input) =>
      mappingFailures(async () => {
        const rules = input.rules.map((text) => parseAlertRule(text, alertVocabulary));
        const checkpoints = await alertCheckpoints(deps.prisma, input.scheduleName);
        const fired = await recordAlerts(
          deps.prisma,
          input.scheduleName,
          input.sweepId,
          evaluateAlertRules(rules, checkpoints),
        );
        if (!input.webhook) return { fired, delivered: 0 };
        const pending = await undeliveredAlerts(deps.prisma, input.scheduleName);
        const uris = new Map(checkpoints.map((c) => [c.id, c]));
        let delivered = 0;
        let lastError: string | null = null;
        for (const alert of pending) {
          const ckpt = uris.get(alert.checkpointId);
          const error = await post(input.webhook, alert.id, {
            schedule: alert.scheduleName,
            rule: alert.rule,
            checkpoint: { id: alert.checkpointId, uri: ckpt?.name ?? '', step: ckpt?.step ?? null },
            value: alert.value,
            message: alert.message,
            sweepId: alert.sweepId,
            firedAt: alert.createdAt.toISOString(),
          });
          await markAlertDelivery(deps.prisma, alert.id, error);
          if (error === null) delivered++;
          else lastError = error;
        }
        // Retryable: the workflow's retry policy tries the undelivered ones again later.
        if (lastError !== null) throw ApplicationFailure.retryable(lastError, 'WebhookDelivery');
        return { fired, delivered };
      }),
  };
}
