/**
 * Mixture-of-experts layers of the checkpoint page: α per layer (fused expert tensor) × expert as a
 * colour grid of the stored expert rows, and the stored per-group summary (mean over experts,
 * spread across them). Server-rendered; every value comes from the database.
 */
import type { ExpertCell } from '../../db/dashboard/checkpoint.ts';
import type { ExpertGroupSummary } from '../../lib/spectral/expert-groups.ts';
import { formatNumber } from '../view/format.ts';

/** Blue (lowest α shown) to red (highest); grey where an expert has no α. */
function cellColour(alpha: number | null, low: number, high: number): string {
  if (alpha === null || !Number.isFinite(alpha)) return 'hsl(0 0% 85%)';
  const t = high > low ? (alpha - low) / (high - low) : 0.5;
  return `hsl(${Math.round(240 * (1 - t))} 75% 55%)`;
}

export function ExpertHeatmap(props: { cells: ExpertCell[]; groups: ExpertGroupSummary[] }) {
  const { cells, groups } = props;
  const groupNames = [...new Set(cells.map((cell) => cell.group))];
  const experts = [...new Set(cells.map((cell) => cell.expert))].sort((a, b) => a - b);
  const byKey = new Map(cells.map((cell) => [`${cell.group}\0${cell.expert}`, cell]));
  const alphas = cells.map((cell) => cell.alpha).filter((a): a is number => a !== null && Number.isFinite(a));
  const low = Math.min(...alphas);
  const high = Math.max(...alphas);
  const summaries = new Map(groups.map((group) => [group.group, group]));
  return (
    <section data-testid="expert-heatmap">
      <h2>Experts: α per layer × expert</h2>
      <p className="muted">
        {groupNames.length} expert layers × {experts.length} experts; colour from α {formatNumber(low)} (blue)
        to {formatNumber(high)} (red). Mean and spread are the stored per-layer summaries over its experts.
      </p>
      <div style={{ overflowX: 'auto' }}>
        <table className="expert-grid">
          <thead>
            <tr>
              <th>layer</th>
              {experts.map((expert) => (
                <th key={expert}>{expert}</th>
              ))}
              <th>mean α</th>
              <th>std α</th>
              <th>min [expert]</th>
              <th>max [expert]</th>
            </tr>
          </thead>
          <tbody>
            {groupNames.map((group) => {
              const summary = summaries.get(group);
              return (
                <tr key={group} data-testid="expert-row" data-group={group}>
                  <td>{group}</td>
                  {experts.map((expert) => {
                    const cell = byKey.get(`${group}\0${expert}`);
                    return (
                      <td
                        key={expert}
                        data-testid="expert-cell"
                        data-expert={expert}
                        data-value={cell?.alpha ?? ''}
                        title={`${group}[${expert}] α = ${formatNumber(cell?.alpha ?? null)}`}
                        style={{ background: cellColour(cell?.alpha ?? null, low, high), minWidth: '1.2rem' }}
                      />
                    );
                  })}
                  <td data-testid="expert-mean" data-value={summary?.alpha_mean ?? ''}>
                    {formatNumber(summary?.alpha_mean ?? null)}
                  </td>
                  <td data-testid="expert-std" data-value={summary?.alpha_std ?? ''}>
                    {formatNumber(summary?.alpha_std ?? null)}
                  </td>
                  <td>
                    {formatNumber(summary?.alpha_min ?? null)} [{summary?.alpha_min_expert ?? '—'}]
                  </td>
                  <td>
                    {formatNumber(summary?.alpha_max ?? null)} [{summary?.alpha_max_expert ?? '—'}]
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
