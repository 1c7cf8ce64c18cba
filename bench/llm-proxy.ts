/**
 * A counting HTTP proxy in front of the local S3 for `npm run bench:llm`: the workers are pointed
 * at it, so the bytes they fetch are counted on the wire (GET response bodies: every ranged read,
 * header reads and listings included), whatever code path issued them. Requests pass through
 * unchanged (the Host header too, so the SigV4 signatures still verify).
 */
import http from 'node:http';

export interface S3Traffic {
  /** Body bytes of GET responses (object reads and listings). */
  getBytes: number;
  gets: number;
  /** Requests of any other method (HEAD, PUT of ESD artifacts, ...). */
  others: number;
}

export interface CountingProxy {
  endpoint: string;
  traffic: S3Traffic;
  reset(): void;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1:`port` (0: any free port) and forward to `target`. */
export async function startCountingProxy(target: string, port: number): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const traffic: S3Traffic = { getBytes: 0, gets: 0, others: 0 };
  const server = http.createServer((req, res) => {
    const isGet = req.method === 'GET';
    if (isGet) traffic.gets += 1;
    else traffic.others += 1;
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (isGet) answer.on('data', (chunk: Buffer) => (traffic.getBytes += chunk.length));
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('counting proxy: no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    traffic,
    reset() {
      traffic.getBytes = 0;
      traffic.gets = 0;
      traffic.others = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
