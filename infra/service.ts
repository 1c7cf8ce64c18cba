import path from 'node:path';
import type { StackState } from './paths.ts';
import { isPortOpen } from './ports.ts';

/** What `stack status` reports for one service. */
export type ServiceName = 'postgres' | 's3' | 'temporal';

export interface ServiceStatus {
  name: ServiceName;
  /** Our process for this service is alive (pid file points at a live process of our binary). */
  running: boolean;
  /** It answers on its port. */
  healthy: boolean;
  pid: number | undefined;
  endpoint: string;
}

/** A service's status from its live pid (if any): healthy when it also answers on its port. */
export async function pidServiceStatus(
  name: ServiceName,
  pid: number | undefined,
  listen: { host: string; port: number },
  endpoint: string,
): Promise<ServiceStatus> {
  const healthy = pid !== undefined && (await isPortOpen(listen.host, listen.port));
  return { name, running: pid !== undefined, healthy, pid, endpoint };
}

/** Where a service keeps its files in the stack's state folder: its own folder and its log. */
export function serviceFiles(state: StackState, name: ServiceName) {
  const root = path.join(state.dir, name);
  return { root, data: path.join(root, 'data'), logFile: path.join(state.dir, 'logs', `${name}.log`) };
}
