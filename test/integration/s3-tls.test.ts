/**
 * S3 over TLS against real endpoints: versitygw serving a certificate from a test CA (and a second
 * one serving an expired certificate). With AWS_CA_BUNDLE naming the right CA the bucket is created
 * and ranged reads work; no CA, a wrong CA and an expired server certificate each fail at once
 * with one clear line (never retried as an outage).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBinary, VERSITYGW_BINARY } from '../../infra/binaries.ts';
import { resolveServices } from '../../infra/config.ts';
import type { S3Settings } from '../../infra/paths.ts';
import { isPortOpen, waitUntil } from '../../infra/ports.ts';
import { ensureBucket, s3Client } from '../../infra/s3.ts';
import { ConfigError } from '../../lib/errors.ts';
import { S3Storage } from '../../storage/s3.ts';
import { freePort } from './cli-helpers.ts';
import { makeTestPki, type TestPki } from './tls-certs.ts';

const KEYS = { accessKeyId: 'tls-test', secretAccessKey: 'tls-test-secret' };

let dir: string;
let pki: TestPki;
const gateways: ChildProcess[] = [];

/** versitygw (posix backend) on a free loopback port with TLS from `cert`/`key`; its https URL. */
async function startTlsGateway(cert: string, key: string, name: string): Promise<string> {
  const port = await freePort();
  const data = path.join(dir, name);
  mkdirSync(data, { recursive: true });
  const child = spawn(
    resolveBinary(VERSITYGW_BINARY),
    ['--port', `127.0.0.1:${port}`, '--cert', cert, '--key', key, '--quiet', 'posix', data],
    {
      env: { ...process.env, ROOT_ACCESS_KEY: KEYS.accessKeyId, ROOT_SECRET_KEY: KEYS.secretAccessKey },
      stdio: 'ignore',
    },
  );
  gateways.push(child);
  const up = await waitUntil(() => isPortOpen('127.0.0.1', port), {
    timeoutMs: 30_000,
    alive: () => child.exitCode === null,
  });
  if (!up) throw new Error(`versitygw with TLS (${name}) did not start (exit ${child.exitCode})`);
  return `https://localhost:${port}`;
}

let goodEndpoint: string;
let expiredEndpoint: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weightlens-s3-tls-'));
  pki = makeTestPki(path.join(dir, 'pki'));
  goodEndpoint = await startTlsGateway(pki.serverCert, pki.serverKey, 'good');
  expiredEndpoint = await startTlsGateway(pki.expiredServerCert, pki.expiredServerKey, 'expired');
});

afterAll(async () => {
  await Promise.all(
    gateways.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
});

const settings = (endpoint: string, caBundle?: string): S3Settings => ({
  endpoint,
  region: 'us-east-1',
  ...KEYS,
  ...(caBundle ? { caBundle } : {}),
  bucket: 'tls-bucket',
});

async function failure(run: () => Promise<unknown>): Promise<string> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const line = (err as Error).message;
  expect(line).not.toContain('\n');
  return line;
}

describe('S3 (versitygw) with a certificate from a test CA', () => {
  it('the right CA (AWS_CA_BUNDLE from the environment): bucket created, ranged reads work', async () => {
    const { s3 } = await resolveServices({
      env: {
        AWS_ENDPOINT_URL_S3: goodEndpoint,
        AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
        AWS_CA_BUNDLE: pki.ca,
        WEIGHTLENS_BUCKET: 'tls-bucket',
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
      },
    });
    expect(s3.caBundle).toBe(pki.ca);
    await ensureBucket(s3);
    const client = s3Client(s3);
    const body = new Uint8Array(4096).map((_, index) => (index * 7) % 251);
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'ckpt/model.bin', Body: body }));
    client.destroy();
    const storage = new S3Storage({ ...settings(goodEndpoint, pki.ca) });
    const reader = await storage.open('s3://tls-bucket/ckpt/model.bin');
    expect(reader.size).toBe(4096);
    expect(Array.from(await reader.read(1000, 16))).toEqual(Array.from(body.subarray(1000, 1016)));
    expect(await storage.list('s3://tls-bucket/ckpt')).toEqual(['s3://tls-bucket/ckpt/model.bin']);
  });

  it('no CA configured (system roots only) is one clear line', async () => {
    const line = await failure(() => ensureBucket(settings(goodEndpoint)));
    expect(line).toMatch(
      /^S3 at https:\/\/localhost:\d+: TLS: the server certificate is not signed by a trusted CA \(set AWS_CA_BUNDLE\) \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
    );
  });

  it('a wrong CA is one clear line, at once (not retried as an outage)', async () => {
    const storage = new S3Storage({
      ...settings(goodEndpoint, pki.otherCa),
      retry: { attempts: 50, baseDelayMs: 1_000, maxDelayMs: 1_000 },
    });
    const started = Date.now();
    const line = await failure(() => storage.open('s3://tls-bucket/ckpt/model.bin'));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(line).toMatch(
      /^S3 at https:\/\/localhost:\d+: TLS: the server certificate is not signed by a trusted CA/,
    );
  });

  it('an expired server certificate is one clear line', async () => {
    const line = await failure(() =>
      new S3Storage(settings(expiredEndpoint, pki.ca)).list('s3://tls-bucket/'),
    );
    expect(line).toMatch(
      /^S3 at https:\/\/localhost:\d+: TLS: the server certificate has expired \(CERT_HAS_EXPIRED\)$/,
    );
  });
});
