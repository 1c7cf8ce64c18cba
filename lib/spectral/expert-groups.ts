/**
 * Per-checkpoint summaries of mixture-of-experts layers: for each fused expert tensor (a group of
 * rows `<tensor>[<expert index>]`), α over its experts — the mean (how trained the layer is) and
 * the spread across experts (whether some experts are over- or under-trained relative to the rest).
 */
import { parseExpertRowName } from '../formats/experts.ts';
import type { LayerMetrics } from './types.ts';

export interface ExpertGroupSummary {
  /** The fused tensor's name. */
  group: string;
  /** Experts of the group with a finite α. */
  experts: number;
  alpha_mean: number;
  /** Population standard deviation of α across the group's experts. */
  alpha_std: number;
  alpha_min: number;
  alpha_max: number;
  /** Expert index with the smallest / largest α. */
  alpha_min_expert: number;
  alpha_max_expert: number;
  alpha_weighted_mean: number | null;
}

/** Expert groups of `rows` (rows of layer type 'expert'), in order of first appearance. */
export function summarizeExpertGroups(rows: readonly LayerMetrics[]): ExpertGroupSummary[] {
  const groups = new Map<string, { index: number; alpha: number; alphaWeighted: number }[]>();
  for (const row of rows) {
    if (row.layer_type !== 'expert') continue;
    const parsed = parseExpertRowName(row.name);
    if (!parsed || !Number.isFinite(row.alpha)) continue;
    const members = groups.get(parsed.group) ?? [];
    members.push({ index: parsed.index, alpha: row.alpha, alphaWeighted: row.alpha_weighted });
    groups.set(parsed.group, members);
  }
  return [...groups].map(([group, members]) => {
    const n = members.length;
    const mean = members.reduce((s, m) => s + m.alpha, 0) / n;
    const variance = members.reduce((s, m) => s + (m.alpha - mean) ** 2, 0) / n;
    let low = members[0]!;
    let high = members[0]!;
    for (const m of members) {
      if (m.alpha < low.alpha) low = m;
      if (m.alpha > high.alpha) high = m;
    }
    const weighted = members.filter((m) => Number.isFinite(m.alphaWeighted));
    return {
      group,
      experts: n,
      alpha_mean: mean,
      alpha_std: Math.sqrt(variance),
      alpha_min: low.alpha,
      alpha_max: high.alpha,
      alpha_min_expert: low.index,
      alpha_max_expert: high.index,
      alpha_weighted_mean:
        weighted.length > 0 ? weighted.reduce((s, m) => s + m.alphaWeighted, 0) / weighted.length : null,
    };
  });
}
