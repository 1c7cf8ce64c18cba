/** Choices for the filter controls: sweeps (newest first) and the distinct checkpoint families. */
import type { Db } from './client.ts';

export interface FilterOptions {
  sweeps: { id: string; name: string }[];
  families: string[];
}

export async function fetchFilterOptions(db: Db): Promise<FilterOptions> {
  const [sweeps, families] = await Promise.all([
    db.sweep.findMany({ select: { id: true, name: true }, orderBy: { createdAt: 'desc' }, take: 500 }),
    // Distinct over the family index; a few hundred families at most in practice.
    db.$queryRaw<{ family: string }[]>`
      SELECT DISTINCT family FROM "Checkpoint" WHERE family IS NOT NULL ORDER BY family LIMIT 1000`,
  ]);
  return { sweeps, families: families.map((row) => row.family) };
}
