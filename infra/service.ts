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
