/**
 * Stand-in for Prisma's native `schema-engine` binary (which the CLI would download; there is no
 * network here). `PRISMA_SCHEMA_ENGINE_BINARY` points at infra/prisma-schema-engine.mjs, which runs
 * this. It speaks the binary's interface as the 7.10 CLI uses it:
 * - `--version` → `schema-engine-cli <commit>`
 * - `--datasource <json> cli can-connect-to-database|create-database|drop-database` → exit code, with
 *   JSON log lines on stderr (the CLI skips the first stderr line, so an INFO line goes first)
 * - otherwise `--datamodels <path>… --datasource <json>` → line-delimited JSON-RPC 2.0 on stdio,
 *   served by `@prisma/schema-engine-wasm` over a fixed-up adapter-pg (./migration-adapter.ts).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { MigrationPgFactory, poolConfigFromUrl } from './migration-adapter.ts';
import { loadSchemaEngineWasm, schemaEngineCommit } from './wasm-engine.ts';

interface ShimArgs {
  version: boolean;
  datamodels: string[];
  datasourceUrl: string | undefined;
  cliCommand: string | undefined;
}

function parseArgs(argv: string[]): ShimArgs {
  const args: ShimArgs = { version: false, datamodels: [], datasourceUrl: undefined, cliCommand: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--version' || arg === '-V') args.version = true;
    else if (arg === '--datamodels' || arg === '-d') args.datamodels.push(argv[++i] ?? '');
    else if (arg === '--datasource') {
      const datasource = JSON.parse(argv[++i] ?? '{}') as { url?: string };
      args.datasourceUrl = datasource.url;
    } else if (arg === 'cli') args.cliCommand = argv[++i];
    else if (arg === '--enabled-preview-features' || arg === '--extension-types') i++;
  }
  return args;
}

function logLine(level: 'INFO' | 'ERROR', message: string, errorCode?: string): void {
  const fields = errorCode ? { message, error_code: errorCode } : { message };
  process.stderr.write(`${JSON.stringify({ level, target: 'schema_engine::logger', fields })}\n`);
}

/** Prisma error codes for the connection failures the CLI explains to users. */
function prismaCodeOf(err: unknown): string {
  const code = (err as { code?: string } | undefined)?.code;
  if (code === '3D000') return 'P1003'; // database does not exist
  if (code === '28P01' || code === '28000') return 'P1000'; // authentication failed
  if (code === '42P04') return 'P1009'; // database already exists
  return 'P1001'; // cannot reach the server
}

async function runCliCommand(command: string, databaseUrl: string): Promise<number> {
  logLine('INFO', `schema engine shim: ${command}`);
  const config = poolConfigFromUrl(databaseUrl);
  const { Client: _client, ...plain } = config;
  const database = plain.database ?? 'postgres';
  const connectTo = command === 'can-connect-to-database' ? plain : { ...plain, database: 'postgres' };
  const client = new pg.Client(connectTo);
  try {
    await client.connect();
    if (command === 'create-database') await client.query(`CREATE DATABASE "${database}"`);
    else if (command === 'drop-database') await client.query(`DROP DATABASE "${database}" WITH (FORCE)`);
    else if (command !== 'can-connect-to-database') throw new Error(`unknown cli command ${command}`);
    return 0;
  } catch (err) {
    logLine('ERROR', (err as Error).message, prismaCodeOf(err));
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface RpcRequest {
  jsonrpc: '2.0';
  id?: number | string;
  method?: string;
  params?: unknown;
}

async function serveRpc(args: ShimArgs): Promise<void> {
  if (!args.datasourceUrl) throw new Error('schema engine shim: --datasource with a url is required');
  const { SchemaEngine } = await loadSchemaEngineWasm();
  const datamodels = args.datamodels.map((file): [string, string] => [file, readFileSync(file, 'utf8')]);
  const adapter = bindMigrationAwareSqlAdapterFactory(new MigrationPgFactory(args.datasourceUrl));
  const engine = await SchemaEngine.new(
    { datamodels: datamodels.length > 0 ? datamodels : undefined },
    (line: string) => process.stderr.write(`${line}\n`),
    adapter,
  );
  const reply = (message: object) =>
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  const methods = engine as unknown as Record<string, (params: unknown) => Promise<unknown>>;

  // Requests are answered one at a time, in order, like the native engine.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let request: RpcRequest;
    try {
      request = JSON.parse(line) as RpcRequest;
    } catch {
      logLine('ERROR', `schema engine shim: ignoring a line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    if (!request.method) return; // a response to our own `print` request
    queue = queue.then(async () => {
      const method = request.method === 'getDatabaseVersion' ? 'version' : request.method!;
      try {
        const fn = methods[method];
        if (typeof fn !== 'function') throw new Error(`unknown schema engine method ${method}`);
        const result = await fn.call(engine, request.params);
        const stdout = (result as { stdout?: string } | undefined)?.stdout;
        if (method === 'diff' && stdout) {
          reply({ id: `print-${request.id}`, method: 'print', params: { content: stdout } });
        }
        reply({ id: request.id, result: result ?? null });
      } catch (err) {
        const error = err as { message?: string; code?: string };
        reply({
          id: request.id,
          error: {
            code: 4466,
            message: 'An error happened. Check the data field for details.',
            data: { is_panic: false, message: error.message ?? String(err), error_code: error.code },
          },
        });
      }
    });
  });
  lines.on('close', () => {
    void queue.finally(() => {
      engine.free();
      // The wasm engine keeps a timer alive for ~10 s after some calls; nothing is left to do.
      process.exit(0);
    });
  });
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.version) {
    process.stdout.write(`schema-engine-cli ${schemaEngineCommit()}\n`);
    return;
  }
  if (args.cliCommand) {
    if (!args.datasourceUrl) throw new Error('schema engine shim: --datasource with a url is required');
    process.exitCode = await runCliCommand(args.cliCommand, args.datasourceUrl);
    return;
  }
  await serveRpc(args);
}

await main(process.argv.slice(2)).catch((err: unknown) => {
  logLine('INFO', 'schema engine shim failed');
  logLine('ERROR', err instanceof Error ? err.message : String(err));
  process.exit(1);
});
