import { notFound } from 'next/navigation';
import { db } from '../../../../db/dashboard/client.ts';
import { fetchPlanPage } from '../../../../db/dashboard/plan.ts';
import { Card } from '../../../components/card.tsx';
import { type FrontierDot, PlanFrontierChart } from '../../../components/charts/plan-frontier.tsx';
import { CheckpointLink } from '../../../components/links.tsx';
import { TableHead } from '../../../components/table-head.tsx';
import { formatNumber, formatWhen } from '../../../view/format.ts';

export const dynamic = 'force-dynamic';

const percent = (ratio: number) => `${(ratio * 100).toFixed(2)}%`;

export default async function PlanPageView(props: { params: Promise<{ id: string }> }) {
  const { id } = await props.params;
  const page = await fetchPlanPage(db(), decodeURIComponent(id));
  if (!page) notFound();
  const { plan } = page;
  const budget = Object.entries(plan?.budget ?? {})
    .map(([k, v]) => `${k} ${k === 'sparsity' ? '=' : '≤'} ${v}`)
    .join(', ');
  // The page's plan on the sweep: the first budget whose plan has its size and objective.
  const current = page.frontier.findIndex(
    (p) => plan !== null && p.bytes === plan.bytes && p.objective === plan.objective,
  );
  const dots: FrontierDot[] = page.frontier.map((p, index) => ({
    budget: p.budget_avg_bits,
    avgBits: p.avg_bits,
    bytes: p.bytes,
    objective: p.objective,
    current: index === current,
  }));
  return (
    <>
      <h1 data-testid="plan-title">
        {page.options.method} plan of{' '}
        <CheckpointLink id={page.checkpoint.id} testId="plan-checkpoint">
          {page.name}
        </CheckpointLink>
      </h1>
      <p className="muted">
        plan {page.id} · <span data-testid="plan-status">{page.status}</span> · {formatWhen(page.createdAt)}
        {page.inputs ? <> · inputs: {page.inputs}</> : null}
        {page.curvature && (
          <>
            {' '}
            · Hessian traces from curvature run {page.curvature.configHash.slice(0, 12)} (
            {page.curvature.dataSource})
          </>
        )}
      </p>
      {page.error && (
        <p className="error" data-testid="plan-error">
          {page.error}
        </p>
      )}
      {plan && (
        <>
          <div className="cards" data-testid="plan-summary">
            <Card label="average bits" value={plan.avg_bits.toFixed(4)} testId="plan-avg-bits" />
            <Card label="packed bytes" value={String(plan.bytes)} testId="plan-bytes" />
            <Card label="sparsity" value={percent(plan.sparsity)} testId="plan-sparsity" />
            <Card
              label="predicted sensitivity"
              value={formatNumber(plan.objective, 4)}
              testId="plan-objective"
            />
            <Card label="budget" value={budget} testId="plan-budget" />
            <Card label="quantizer" value={plan.scheme} testId="plan-scheme" />
          </div>
          <div className="charts">
            {dots.length > 0 ? (
              <PlanFrontierChart points={dots} />
            ) : (
              <p className="muted" data-testid="plan-no-frontier">
                No budget sweep: a {plan.method} plan has no predicted sensitivities.
              </p>
            )}
          </div>
          <h2>Layers ({page.layers.length})</h2>
          <table data-testid="plan-layers">
            <TableHead
              columns={[
                { text: 'layer' },
                'params',
                'bits',
                'sparsity',
                'sensitivity',
                'α',
                'Hessian trace',
                { text: 'note' },
              ]}
            />
            <tbody>
              {page.layers.map((layer) => (
                <tr key={layer.name} data-testid="plan-layer" data-layer={layer.name}>
                  <td className="text">{layer.name}</td>
                  <td>{layer.params}</td>
                  <td data-testid="bits">{layer.bits}</td>
                  <td data-testid="sparsity" data-value={layer.sparsity}>
                    {percent(layer.sparsity)}
                  </td>
                  <td data-testid="sensitivity" data-value={layer.sensitivity ?? ''}>
                    {formatNumber(layer.sensitivity, 4)}
                  </td>
                  <td data-testid="alpha" data-value={layer.alpha ?? ''}>
                    {formatNumber(layer.alpha)}
                  </td>
                  <td data-testid="trace" data-value={layer.trace ?? ''}>
                    {formatNumber(layer.trace, 4)}
                  </td>
                  <td className="text">{layer.note ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
