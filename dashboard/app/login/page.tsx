import { safeNextPath } from '../../access.ts';

export const dynamic = 'force-dynamic';

/** Sign-in with the dashboard token (a plain form: works without client JavaScript). */
export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string; error?: string }>;
}) {
  const params = await searchParams;
  return (
    <section className="login">
      <h1>Sign in</h1>
      <p>This dashboard requires its access token.</p>
      {params.error ? (
        <p className="error" data-testid="login-error">
          That token is not valid.
        </p>
      ) : null}
      <form method="post" action="/login/session">
        <input type="hidden" name="next" value={safeNextPath(params.next)} />
        <label>
          Token <input type="password" name="token" autoComplete="current-password" required />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}
