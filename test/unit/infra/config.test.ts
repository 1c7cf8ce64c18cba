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

  it('rejects an S3 endpoint without credentials with a ConfigError', async () => {
    await expect(
      resolveServices({ state, env: { AWS_ENDPOINT_URL_S3: 'http://s3.local' } }),
    ).rejects.toBeInstanceOf(ConfigError);
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
