/** The TEMPORAL_TLS_* / TEMPORAL_API_KEY settings and the one-line TLS failure messages (pure code). */
import { describe, expect, it } from 'vitest';
import { describeConnectionFailure, temporalConnectOptions } from '../../../infra/tls.ts';

describe('temporalConnectOptions', () => {
  it('is plaintext without TLS settings', () => {
    expect(temporalConnectOptions('h:7233', {})).toEqual({ address: 'h:7233' });
  });

  it('an API key implies TLS with the system roots', () => {
    expect(temporalConnectOptions('h:7233', { TEMPORAL_API_KEY: 'k' })).toEqual({
      address: 'h:7233',
      tls: true,
      apiKey: 'k',
    });
  });

  it('TEMPORAL_TLS=1 alone is TLS with the system roots and a server name override when given', () => {
    expect(temporalConnectOptions('h:7233', { TEMPORAL_TLS: '1' })).toEqual({ address: 'h:7233', tls: true });
    expect(temporalConnectOptions('h:7233', { TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' })).toEqual({
      address: 'h:7233',
      tls: { serverNameOverride: 'temporal.internal' },
    });
  });

  it('refuses half an mTLS pair, an unknown TEMPORAL_TLS value and a missing file, in one line', () => {
    expect(() => temporalConnectOptions('h:7233', { TEMPORAL_TLS_CERT: '/c.pem' })).toThrow(
      'TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not; mTLS needs both',
    );
    expect(() => temporalConnectOptions('h:7233', { TEMPORAL_TLS: 'yes' })).toThrow(
      'TEMPORAL_TLS=yes: expected 1, true, 0 or false',
    );
    expect(() => temporalConnectOptions('h:7233', { TEMPORAL_TLS_CA: '/nonexistent/ca.pem' })).toThrow(
      'TEMPORAL_TLS_CA=/nonexistent/ca.pem: cannot read the certificate file (ENOENT)',
    );
  });
});

describe('describeConnectionFailure', () => {
  it('names the TLS reason from Node/OpenSSL texts, else keeps the first line', () => {
    const line = (message: string) => describeConnectionFailure('Postgres', 'db:5432', new Error(message));
    expect(line('self-signed certificate in certificate chain')).toBe(
      'Postgres at db:5432: TLS: the server certificate is not signed by the configured CA (self-signed certificate in certificate chain)',
    );
    expect(line('certificate has expired')).toMatch(/TLS: the server certificate has expired/);
    expect(line("Hostname/IP does not match certificate's altnames")).toMatch(/does not name this host/);
    expect(line('ssl3_read_bytes:tlsv1 alert unknown ca')).toMatch(/rejected the client certificate/);
    expect(line('connect ECONNREFUSED 127.0.0.1:5432\nat ...')).toBe(
      'Postgres at db:5432: connect ECONNREFUSED 127.0.0.1:5432',
    );
  });
});
