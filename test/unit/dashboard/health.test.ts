/** The error page's database target: where the dashboard looked, never the credentials. */
import { describe, expect, it } from 'vitest';
import { databaseTarget } from '../../../db/dashboard/health.ts';

describe('database target', () => {
  it('is host:port/database without user or password', () => {
    expect(databaseTarget('postgresql://weightlens:s3cret@127.0.0.1:15432/weightlens?schema=public')).toBe(
      '127.0.0.1:15432/weightlens',
    );
    expect(databaseTarget('postgres://u:p@db.internal/results')).toBe('db.internal:5432/results');
    expect(databaseTarget('postgresql://u:p@127.0.0.1:1/x')).not.toContain('p@');
  });

  it('says when there is none or it is not a URL', () => {
    expect(databaseTarget('')).toBe('DATABASE_URL is not set');
    expect(databaseTarget('not a url')).toBe('DATABASE_URL (not a URL)');
  });
});
