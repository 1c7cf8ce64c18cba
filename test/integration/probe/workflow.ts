/** The round-trip probe workflow: one activity that reads S3 and writes Postgres (see ./activities.ts). */
import { proxyActivities } from '@temporalio/workflow';
import type { ProbeActivities, ProbeInput, ProbeResult } from './activities.ts';

const { probeReadAndRecord } = proxyActivities<ProbeActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export async function probeWorkflow(input: ProbeInput): Promise<ProbeResult> {
  return probeReadAndRecord(input);
}
