/**
 * A worker's HTTP endpoints for an orchestrator: GET /livez (the process answers), GET /readyz (every
 * dependency check passes; 503 with the failing ones otherwise) and GET /metrics (Prometheus text).
 * Enabled by WEIGHTLENS_HEALTH_PORT (and WEIGHTLENS_HEALTH_HOST, default 0.0.0.0).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { s3EndpointUrl } from '../infra/paths.ts';
import { isPortOpen } from '../infra/ports.ts';
import { ConfigError } from '../lib/errors.ts';

export type DependencyCheck = () => Promise<boolean>;

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

async function runCheck(check: DependencyCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHealthServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  checks: Record<string, DependencyCheck>;
  checkTimeoutMs?: number;
}): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  const server = http.createServer((req, res) => {
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    if (route === 'GET /livez') return reply(200, 'text/plain', 'ok\n');
    if (route === 'GET /readyz') {
      void (async () => {
        const names = Object.keys(options.checks);
        const results = await Promise.all(
          names.map((name) => runCheck(options.checks[name] as DependencyCheck, timeoutMs)),
        );
        const checks = Object.fromEntries(names.map((name, i) => [name, results[i] ? 'ok' : 'unreachable']));
        const ready = results.every(Boolean);
        reply(ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, checks })}\n`);
      })();
      return;
    }
    if (route === 'GET /metrics') {
      void options.registry.metrics().then(
        (text) => reply(200, options.registry.contentType, text),
        (err: Error) => reply(500, 'text/plain', `${err.message}\n`),
      );
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          `worker health endpoint: cannot listen on port ${options.port} (${err.code ?? err.message}); set WEIGHTLENS_HEALTH_PORT to a free port`,
        ),
      ),
    );
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** WEIGHTLENS_HEALTH_PORT as a port number, or undefined when unset. */
export function healthPortFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.WEIGHTLENS_HEALTH_PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      `WEIGHTLENS_HEALTH_PORT=${raw} is not a valid port; set it to a number between 0 and 65535`,
    );
  }
  return port;
}

function hostPort(target: string, defaultPort: number): { host: string; port: number } {
  const url = new URL(target.includes('://') ? target : `tcp://${target}`);
  const port = url.port
    ? Number(url.port)
    : url.protocol === 'https:'
      ? 443
      : url.protocol === 'http:'
        ? 80
        : defaultPort;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

/** Readiness checks of a worker's dependencies: each answers TCP connections at its endpoint. */
export function dependencyChecks(services: {
  temporalAddress: string;
  databaseUrl: string;
  s3: { endpoint?: string; region: string };
}): Record<string, DependencyCheck> {
  const tcp = (target: string, defaultPort: number) => {
    const { host, port } = hostPort(target, defaultPort);
    return () => isPortOpen(host, port);
  };
  return {
    temporal: tcp(services.temporalAddress, 7233),
    postgres: tcp(services.databaseUrl, 5432),
    s3: tcp(s3EndpointUrl(services.s3), 443),
  };
}
