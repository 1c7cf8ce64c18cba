/**
 * The S3 client configuration as the AWS SDK itself resolves it (a capturing request handler stands
 * in for the network): AWS S3 without an endpoint uses virtual-hosted addressing, an S3-compatible
 * endpoint path-style; without keys the SDK's default credential chain signs the request (here
 * from a shared credentials file, the same chain that finds IRSA tokens and instance roles).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { HttpRequest } from '@smithy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/errors.ts';
import { s3ClientConfig, s3TlsError } from '../../../storage/s3.ts';

const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_EC2_METADATA_DISABLED',
];

let saved: Record<string, string | undefined>;
let dir: string;
beforeEach(() => {
  saved = Object.fromEntries(CREDENTIAL_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of CREDENTIAL_VARIABLES) delete process.env[name];
  dir = mkdtempSync(path.join(os.tmpdir(), 'weightlens-s3-client-'));
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The request the SDK would send for a HEAD of s3://bucket/key, and its Authorization header. */
async function capturedRequest(env: NodeJS.ProcessEnv): Promise<HttpRequest> {
  let captured: HttpRequest | undefined;
  const client = new S3Client({
    ...s3ClientConfig({}, env),
    requestHandler: {
      handle: async (request: HttpRequest) => {
        captured = request;
        throw new Error('captured');
      },
    },
  });
  await expect(
    client.send(new HeadObjectCommand({ Bucket: 'models', Key: 'a/b.safetensors' })),
  ).rejects.toThrow('captured');
  client.destroy();
  if (!captured) throw new Error('no request was made');
  return captured;
}

describe('S3 client configuration', () => {
  it('AWS S3 (no endpoint): virtual-hosted addressing in the region', async () => {
    const request = await capturedRequest({
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
    });
    expect(request.hostname).toBe('models.s3.eu-west-1.amazonaws.com');
    expect(request.path).toBe('/a/b.safetensors');
    expect(request.protocol).toBe('https:');
  });

  it('an S3-compatible endpoint: path-style addressing', async () => {
    const request = await capturedRequest({
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
    });
    expect(request.hostname).toBe('127.0.0.1');
    expect(request.path).toBe('/models/a/b.safetensors');
  });

  it('without keys the default credential chain signs (shared credentials file)', async () => {
    const credentials = path.join(dir, 'credentials');
    writeFileSync(
      credentials,
      '[default]\naws_access_key_id = AKIACHAINFROMFILE\naws_secret_access_key = chain-secret\n',
    );
    process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config-absent');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    const config = s3ClientConfig({}, { AWS_REGION: 'us-east-2' });
    expect(config.credentials).toBeUndefined();
    const request = await capturedRequest({ AWS_REGION: 'us-east-2' });
    expect(request.headers.authorization).toMatch(/Credential=AKIACHAINFROMFILE\/\d{8}\/us-east-2\/s3\//);
  });

  it('keys from the environment sign when set; one without the other is refused', async () => {
    const request = await capturedRequest({ AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'SK' });
    expect(request.headers.authorization).toContain('Credential=AKIAENV/');
    expect(() => s3ClientConfig({}, { AWS_ACCESS_KEY_ID: 'AK' })).toThrow(ConfigError);
  });

  it('AWS_CA_BUNDLE must be a readable PEM file', () => {
    expect(() => s3ClientConfig({}, { AWS_CA_BUNDLE: path.join(dir, 'missing.pem') })).toThrow(
      /^AWS_CA_BUNDLE=.*missing\.pem: cannot read the CA file \(ENOENT\)$/,
    );
    const notPem = path.join(dir, 'ca.txt');
    writeFileSync(notPem, 'hello');
    expect(() => s3ClientConfig({}, { AWS_CA_BUNDLE: notPem })).toThrow(/not a PEM certificate file/);
  });

  it('TLS verification failures become one line; other errors pass through', () => {
    const expired = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
    expect(s3TlsError('https://s3.local', expired)?.message).toBe(
      'S3 at https://s3.local: TLS: the server certificate has expired (CERT_HAS_EXPIRED)',
    );
    expect(
      s3TlsError('https://s3.local', Object.assign(new Error('x'), { code: 'ECONNRESET' })),
    ).toBeUndefined();
  });
});
