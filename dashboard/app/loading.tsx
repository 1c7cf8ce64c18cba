/** Shown while a page's queries run (a slow or unanswering database shows this, not a blank page). */
export default function Loading() {
  return (
    <p className="muted" role="status">
      Loading results from the database…
    </p>
  );
}
