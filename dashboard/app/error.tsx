'use client';
/**
 * What a page shows when it could not be rendered. Production builds hide server errors' messages
 * from the browser, so the page asks /health whether the database answers: when it does not, it
 * says which service, where it was looked for and what to do, instead of a stack or a blank page.
 */
import { useCallback, useEffect, useState } from 'react';
import type { DatabaseHealth } from '../../db/dashboard/health.ts';

type Diagnosis =
  | { state: 'checking' }
  | { state: 'database down'; database: DatabaseHealth }
  | { state: 'database up' }
  | { state: 'server down'; detail: string };

async function diagnose(): Promise<Diagnosis> {
  try {
    const response = await fetch('/health', { cache: 'no-store' });
    const body = (await response.json()) as { database: DatabaseHealth };
    return body.database.reachable
      ? { state: 'database up' }
      : { state: 'database down', database: body.database };
  } catch (err) {
    return { state: 'server down', detail: err instanceof Error ? err.message : String(err) };
  }
}

export default function PageError({ error, retry }: { error: unknown; retry: () => void }) {
  const [diagnosis, setDiagnosis] = useState<Diagnosis>({ state: 'checking' });
  // Asked again on every try, so the page follows the database going down or coming back.
  const check = useCallback(() => {
    setDiagnosis({ state: 'checking' });
    void diagnose().then(setDiagnosis);
  }, []);
  useEffect(check, [check]);
  const digest = error instanceof Error && 'digest' in error ? String(error.digest) : null;
  const again = (
    <button
      type="button"
      onClick={() => {
        check();
        retry();
      }}
    >
      Try again
    </button>
  );

  if (diagnosis.state === 'checking') {
    return (
      <section className="unavailable" role="alert">
        <h1>This page could not be shown</h1>
        <p className="muted">Checking whether the database answers…</p>
      </section>
    );
  }
  if (diagnosis.state === 'database down') {
    const { target, detail } = diagnosis.database;
    return (
      <section className="unavailable" role="alert" data-unreachable="database">
        <h1>The database is unreachable</h1>
        <p>
          The dashboard reads every result from Postgres at <code>{target}</code>, which did not answer:
        </p>
        <p className="error">{detail}</p>
        <p>
          What to do: on the embedded local stack start it with <code>npx weightlens stack up postgres</code>{' '}
          (or <code>npx weightlens stack up</code> for every service); with your own database, check that it
          is running and that <code>DATABASE_URL</code> points at it. Nothing is lost: results stay in the
          database. Then try again.
        </p>
        {again}
      </section>
    );
  }
  if (diagnosis.state === 'server down') {
    return (
      <section className="unavailable" role="alert" data-unreachable="dashboard">
        <h1>The dashboard server is unreachable</h1>
        <p className="error">{diagnosis.detail}</p>
        <p>
          What to do: start it again with <code>npx weightlens dashboard</code>, then try again.
        </p>
        {again}
      </section>
    );
  }
  return (
    <section className="unavailable" role="alert">
      <h1>This page could not be shown</h1>
      <p>
        The database answers, so this is an error of the page itself; the dashboard server&apos;s log has it
        {digest ? (
          <>
            {' '}
            under digest <code>{digest}</code>
          </>
        ) : null}
        .
      </p>
      {again}
    </section>
  );
}
