/**
 * Applying prisma/migrations with the stock `prisma migrate deploy`, offline: the CLI runs our
 * WASM schema-engine shim (PRISMA_SCHEMA_ENGINE_BINARY), so the same migrations apply unchanged
 * with the native engine on a machine with internet. Idempotent: already-applied ones are skipped.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ConfigError } from '../lib/errors.ts';
import { repoRoot } from './paths.ts';

export const schemaEngineShim = path.join(repoRoot, 'infra', 'prisma-schema-engine.mjs');
const prismaCli = path.join(repoRoot, 'node_modules', 'prisma', 'build', 'index.js');

/** Environment for running the Prisma CLI offline against `databaseUrl`. */
export function prismaCliEnv(databaseUrl?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? schemaEngineShim,
    // No telemetry or update checks: there is no network, and each would wait for a timeout.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
}

/** Run the Prisma CLI with `args`; resolves with its output, throws ConfigError on failure. */
export function runPrismaCli(args: string[], databaseUrl?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prismaCli, ...args], {
      cwd: repoRoot,
      env: prismaCliEnv(databaseUrl),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', (err) =>
      reject(new ConfigError(`cannot run the Prisma CLI (${err.message}); run npm ci`)),
    );
    child.on('close', (code) => {
      if (code === 0) return resolve(output);
      // The CLI's own explanation is the most useful line: the first "Error"/P-code line.
      const lines = output
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const reason = lines.find((l) => /^(Error|P\d{4})/.test(l)) ?? lines.at(-1) ?? `exit code ${code}`;
      const detail = lines[lines.indexOf(reason) + 1] ?? '';
      reject(new ConfigError(`prisma ${args.join(' ')} failed: ${reason} ${detail}`.trim()));
    });
  });
}

/** Apply every pending migration to `databaseUrl` (creating the database if missing). */
export async function applyMigrations(databaseUrl: string): Promise<string> {
  return runPrismaCli(['migrate', 'deploy'], databaseUrl);
}
