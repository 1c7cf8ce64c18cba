/** The dashboard's access policy: anonymous only on loopback without a token; tokens checked exactly. */
import { describe, expect, it } from 'vitest';
import {
  accessPolicy,
  isAuthorized,
  safeNextPath,
  secretsEqual,
  sessionValue,
} from '../../../dashboard/access.ts';

const TOKEN = 'a-long-enough-dashboard-token-1234';

describe('dashboard access policy', () => {
  it('anonymous only when bound to loopback and no token is configured', () => {
    for (const host of ['127.0.0.1', '127.0.0.53', '::1', 'localhost']) {
      expect(accessPolicy({ WEIGHTLENS_DASHBOARD_HOST: host })).toEqual({ mode: 'anonymous' });
    }
    for (const env of [
      { WEIGHTLENS_DASHBOARD_HOST: '0.0.0.0' },
      { WEIGHTLENS_DASHBOARD_HOST: '10.0.0.5' },
      {},
    ]) {
      const policy = accessPolicy(env);
      expect(policy.mode).toBe('refuse');
      expect(policy).toMatchObject({ reason: expect.stringContaining('set WEIGHTLENS_DASHBOARD_TOKEN') });
    }
  });

  it('a configured token is required everywhere, loopback included; a short one is refused', () => {
    expect(
      accessPolicy({ WEIGHTLENS_DASHBOARD_HOST: '127.0.0.1', WEIGHTLENS_DASHBOARD_TOKEN: TOKEN }),
    ).toEqual({
      mode: 'token',
      token: TOKEN,
    });
    expect(accessPolicy({ WEIGHTLENS_DASHBOARD_TOKEN: 'short' })).toMatchObject({ mode: 'refuse' });
  });

  it('accepts the bearer token or the session cookie, nothing else', () => {
    const policy = accessPolicy({ WEIGHTLENS_DASHBOARD_TOKEN: TOKEN });
    const check = (authorization: string | null, sessionCookie?: string) =>
      isAuthorized(policy, { authorization, sessionCookie });
    expect(check(`Bearer ${TOKEN}`)).toBe(true);
    expect(check(null, sessionValue(TOKEN))).toBe(true);
    expect(check(null)).toBe(false);
    expect(check(`Bearer ${TOKEN}x`)).toBe(false);
    expect(check(`Basic ${TOKEN}`)).toBe(false);
    expect(check(null, TOKEN)).toBe(false);
    expect(check(null, sessionValue(`${TOKEN}-rotated`))).toBe(false);
    expect(
      isAuthorized(
        { mode: 'refuse', reason: 'x' },
        { authorization: `Bearer ${TOKEN}`, sessionCookie: undefined },
      ),
    ).toBe(false);
  });

  it('compares secrets of any length without throwing', () => {
    expect(secretsEqual('', TOKEN)).toBe(false);
    expect(secretsEqual(TOKEN, TOKEN)).toBe(true);
  });

  it('returns only to same-origin paths after sign-in', () => {
    expect(safeNextPath('/checkpoints/abc?x=1')).toBe('/checkpoints/abc?x=1');
    for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', '', null]) {
      expect(safeNextPath(bad)).toBe('/');
    }
  });
});
