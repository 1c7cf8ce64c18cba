/** Loopback port probes and bounded waiting, used by every service's health check. */
import net from 'node:net';
import { ConfigError } from '../lib/errors.ts';

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Refuse to start a service on a port someone else already listens on. */
export async function ensurePortFree(
  host: string,
  port: number,
  service: string,
  envVar: string,
): Promise<void> {
  if (await isPortOpen(host, port)) {
    throw new ConfigError(
      `${service}: port ${port} on ${host} is already in use by another process; stop it or set ${envVar} to a free port`,
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `check` until it returns true or the deadline passes; `alive` (when given) aborts early
 * when the process we wait for has died. Returns whether the check passed.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; alive?: () => boolean },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (options.alive && !options.alive()) return false;
    if (Date.now() >= deadline) return false;
    await sleep(options.intervalMs ?? 200);
  }
}
