/** Server-rendered tables of the checkpoint page: summary cards, curvature runs, per-layer metrics. */
import type { CheckpointSummary } from '../../db/client.ts';
import type { CurvatureRow } from '../../db/dashboard/checkpoint.ts';
import { formatNumber } from '../view/format.ts';
import { Card } from './card.tsx';
import { TableHead, textColumns } from './table-head.tsx';

export function SummaryCards({
  summary,
  curvature,
}: {
  summary: CheckpointSummary | null;
  curvature: CurvatureRow | null;
}) {
  if (!summary) return <p className="muted">No summary stored for this configuration yet.</p>;
  return (
    <div className="cards" data-testid="summary">
      <Card
        label="mean α̂ (alpha_weighted)"
        value={formatNumber(summary.alphaWeighted)}
        testId="summary-alpha_weighted"
      />
      <Card label="mean α" value={formatNumber(summary.alpha)} testId="summary-alpha" />
      <Card label="mean log_norm" value={formatNumber(summary.logNorm)} testId="summary-log_norm" />
      <Card label="mean log_alpha_norm" value={formatNumber(summary.logAlphaNorm)} />
      <Card label="mean log_spectral_norm" value={formatNumber(summary.logSpectralNorm)} />
      <Card label="mean stable_rank" value={formatNumber(summary.stableRank)} />
      <Card label="mean mp_softrank" value={formatNumber(summary.mpSoftrank)} />
      <Card
        label="layers analyzed / failed"
        value={`${summary.layersAnalyzed} / ${summary.layersFailed}`}
        testId="summary-layers"
      />
      <Card
        label="over / under-trained, traps"
        value={`${summary.overTrained} / ${summary.underTrained}, ${summary.correlationTraps}`}
        testId="summary-warnings"
      />
      {curvature && (
        <>
          <Card
            label="Hessian λ_max"
            value={formatNumber(curvature.topEigenvalues[0])}
            testId="summary-hessian-top"
          />
          <Card label="Hessian trace" value={formatNumber(curvature.trace)} testId="summary-hessian-trace" />
        </>
      )}
    </div>
  );
}

export function CurvatureTable({ rows }: { rows: CurvatureRow[] }) {
  return (
    <>
      <h2>Curvature (Hessian)</h2>
      <table data-testid="curvature">
        <TableHead
          columns={[
            ...textColumns('data', 'status'),
            'top eigenvalues',
            'trace',
            { text: 'backend' },
            'ms',
            { text: 'error' },
          ]}
        />
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.configHash}/${row.dataSource}`}>
              <td className="text">{row.dataSource}</td>
              <td className="text">{row.status}</td>
              <td>{row.topEigenvalues.map((value) => formatNumber(value)).join(', ')}</td>
              <td>{formatNumber(row.trace)}</td>
              <td className="text">{row.backend ?? '—'}</td>
              <td>{row.durationMs ?? '—'}</td>
              <td className="error">{row.error ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
