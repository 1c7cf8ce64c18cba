/**
 * Test prerequisites installed by `npm run setup` (native addon, Debian data sets, ../shared data).
 * A missing one fails the test run with what to do, so a broken setup never passes as "skipped";
 * WEIGHTLENS_ALLOW_MISSING_PREREQUISITES=1 turns that into skipping, for partial dev machines.
 */
export function prerequisite(present: boolean, what: string): boolean {
  if (present) return true;
  if (process.env.WEIGHTLENS_ALLOW_MISSING_PREREQUISITES === '1') return false;
  throw new Error(
    `test prerequisite missing: ${what}. Run \`npm run setup\` (or set WEIGHTLENS_ALLOW_MISSING_PREREQUISITES=1 to skip)`,
  );
}
