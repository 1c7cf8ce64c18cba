/** resolveServices without starting anything: the environment wins, the local stack fills the rest. */
import { describe, expect, it } from 'vitest';
import { exportS3Env, resolveServices } from '../../../infra/config.ts';
import { stackStateFromEnv } from '../../../infra/paths.ts';
import { ConfigError } from '../../../lib/errors.ts';

const state = stackStateFromEnv({ dir: '/tmp/weightlens-config-test', portOffset: 7 }, {});

describe('resolveServices (no start)', () => {
  it('uses the local stack endpoints when nothing is configured', async () => {
    const services = await resolveServices({ state, env: {} });
    expect(services).toEqual({
      temporalAddress: `127.0.0.1:${17233 + 7}`,
      namespace: 'default',
      databaseUrl: `postgresql://weightlens:weightlens@127.0.0.1:${15432 + 7}/weightlens`,
      s3: {
        endpoint: `http://127.0.0.1:${17070 + 7}`,
        region: 'us-east-1',
        accessKeyId: 'weightlens',
        secretAccessKey: 'weightlens-dev-secret',
        bucket: 'weightlens',
      },
    });
  });

  it('lets the environment win, service by service', async () => {
    const env = {
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'research',
      AWS_ENDPOINT_URL: 'https://s3.example',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
      AWS_REGION: 'eu-west-1',
      WEIGHTLENS_BUCKET: 'models',
    };
    const services = await resolveServices({ state, env });
    expect(services.temporalAddress).toBe('temporal.example:7233');
    expect(services.namespace).toBe('research');
    expect(services.s3).toEqual({
      endpoint: 'https://s3.example',
      region: 'eu-west-1',
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      bucket: 'models',
    });
    // Not configured: still the local stack's.
    expect(services.databaseUrl).toContain(`:${15432 + 7}/`);
    const s3Specific = await resolveServices({
      state,
      env: { ...env, AWS_ENDPOINT_URL_S3: 'http://s3.local:9000' },
    });
    expect(s3Specific.s3.endpoint).toBe('http://s3.local:9000');
  });

  it('an S3 endpoint without keys leaves credentials to the default chain', async () => {
    const { s3 } = await resolveServices({ state, env: { AWS_ENDPOINT_URL_S3: 'http://s3.local' } });
    expect(s3).toEqual({ endpoint: 'http://s3.local', region: 'us-east-1', bucket: 'weightlens' });
  });

  it('WEIGHTLENS_S3=aws is AWS S3: no endpoint, keys optional, a CA bundle passed on', async () => {
    const { s3 } = await resolveServices({
      state,
      env: { WEIGHTLENS_S3: 'aws', AWS_REGION: 'eu-central-1', AWS_CA_BUNDLE: '/etc/ca.pem' },
    });
    expect(s3).toEqual({
      region: 'eu-central-1',
      caBundle: '/etc/ca.pem',
      bucket: 'weightlens',
    });
    const exported: NodeJS.ProcessEnv = { AWS_ENDPOINT_URL: 'http://stale', AWS_ACCESS_KEY_ID: 'stale' };
    exportS3Env(s3, exported);
    expect(exported).toEqual({
      WEIGHTLENS_S3: 'aws',
      AWS_REGION: 'eu-central-1',
      AWS_CA_BUNDLE: '/etc/ca.pem',
      WEIGHTLENS_BUCKET: 'weightlens',
    });
    // What was exported resolves to the same settings in a child process.
    expect((await resolveServices({ state, env: exported })).s3).toEqual(s3);
  });

  it('one S3 key without the other, or an unknown WEIGHTLENS_S3, is a ConfigError naming it', async () => {
    await expect(
      resolveServices({ state, env: { AWS_ENDPOINT_URL_S3: 'http://s3.local', AWS_ACCESS_KEY_ID: 'AK' } }),
    ).rejects.toThrow(/AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/);
    await expect(resolveServices({ state, env: { WEIGHTLENS_S3: 'minio' } })).rejects.toThrow(
      new ConfigError('WEIGHTLENS_S3=minio: expected local or aws'),
    );
    await expect(
      resolveServices({ state, env: { WEIGHTLENS_S3: 'local', AWS_ENDPOINT_URL: 'http://s3.local' } }),
    ).rejects.toThrow(/contradicts/);
  });

  it('rejects a malformed port variable', () => {
    expect(() => stackStateFromEnv({}, { WEIGHTLENS_S3_PORT: 'seventy' })).toThrow(/WEIGHTLENS_S3_PORT/);
  });

  it('exportS3Env points the standard AWS variables at the given S3', async () => {
    const env: NodeJS.ProcessEnv = {};
    const { s3 } = await resolveServices({ state, env: {} });
    exportS3Env(s3, env);
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      WEIGHTLENS_BUCKET: s3.bucket,
    });
  });
});
