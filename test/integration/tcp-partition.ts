/**
 * A network partition we control, in process: a TCP forwarder per service on a loopback port.
 * `cut()` turns it into a black hole (bytes in either direction are dropped, new connections are
 * accepted and never answered), as a partition looks to both sides: no reset, only silence, so
 * the worker behind it finds out by timeouts. `restore()` drops the connections that lived
 * through the cut (their peers have long given up, as TCP would after a partition) and forwards
 * new ones again.
 */
import net from 'node:net';

export interface Partition {
  /** host:port the worker should use instead of `target`. */
  address: string;
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startPartition(target: { host: string; port: number }): Promise<Partition> {
  let cut = false;
  const open = new Set<{ client: net.Socket; upstream: net.Socket | undefined }>();
  const server = net.createServer((client) => {
    const pair = { client, upstream: undefined as net.Socket | undefined };
    open.add(pair);
    const drop = () => {
      open.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    if (cut) return; // accepted, never answered
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('data', (chunk) => {
      if (!cut) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!cut) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    cut() {
      cut = true;
    },
    restore() {
      for (const pair of [...open]) {
        open.delete(pair);
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      cut = false;
    },
    async close() {
      for (const pair of open) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
