import Link from 'next/link';
import { db } from '../../../db/dashboard/client.ts';
import { COMPARE_MAX, fetchComparison } from '../../../db/dashboard/compare.ts';
import { allParams, choiceParam, type SearchParams } from '../../../db/dashboard/params.ts';
import { LAYER_METRIC_NAMES, SUMMARY_METRIC_NAMES } from '../../../lib/metrics/display.ts';
import { AlphaByLayerChart } from '../../components/charts/alpha-by-layer.tsx';
import { SelectField } from '../../components/filters.tsx';
import { CheckpointLink } from '../../components/links.tsx';
import { TableHead, textColumns } from '../../components/table-head.tsx';
import { formatNumber } from '../../view/format.ts';

export const dynamic = 'force-dynamic';

export default async function ComparePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const params = await searchParams;
  const ids = allParams(params, 'ids');
  const metric = choiceParam(params, 'metric', LAYER_METRIC_NAMES, 'alpha');
  if (ids.length < 2) {
    return (
      <>
        <h1>Compare</h1>
        <p>
          Pick two to {COMPARE_MAX} checkpoints with the checkboxes on the{' '}
          <Link prefetch={false} href="/">
            leaderboard
          </Link>{' '}
          and press “Compare selected”.
        </p>
      </>
    );
  }
  const compared = await fetchComparison(db(), ids);
  // Layers in the first checkpoint's order, then any layer only the others have.
  const layerNames = [...new Set(compared.flatMap((checkpoint) => [...checkpoint.layers.keys()]))];
  const points = compared.flatMap((checkpoint) =>
    [...checkpoint.layers.values()]
      .filter((layer) => layer.values.alpha !== null)
      .map((layer) => ({
        layerId: layer.layerId,
        name: layer.layerName,
        alpha: layer.values.alpha!,
        series: checkpoint.name,
      })),
  );
  const summaryMetrics = SUMMARY_METRIC_NAMES;
  return (
    <>
      <h1>Compare {compared.length} checkpoints</h1>
      <h2>Summary</h2>
      <table data-testid="compare-summary">
        <TableHead
          columns={[...textColumns('checkpoint', 'family'), 'step', 'known acc.', ...summaryMetrics]}
        />
        <tbody>
          {compared.map((checkpoint) => (
            <tr key={checkpoint.id} data-testid="compare-summary-row">
              <td className="text">
                <CheckpointLink id={checkpoint.id} config={checkpoint.configHash}>
                  {checkpoint.name}
                </CheckpointLink>
              </td>
              <td className="text">{checkpoint.family ?? '—'}</td>
              <td>{checkpoint.step ?? '—'}</td>
              <td>{formatNumber(checkpoint.knownTestAccuracy, 4)}</td>
              {summaryMetrics.map((key) => (
                <td key={key}>{formatNumber(checkpoint.summary?.[key])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="charts" style={{ marginTop: '1rem' }}>
        {points.length > 0 && <AlphaByLayerChart points={points} width={1000} />}
      </div>
      <h2>Layer by layer</h2>
      <form className="filters" method="get" action="/compare">
        {compared.map((checkpoint) => (
          <input key={checkpoint.id} type="hidden" name="ids" value={checkpoint.id} />
        ))}
        <SelectField label="Metric" name="metric" value={metric} choices={LAYER_METRIC_NAMES} />
        <button type="submit">Show</button>
      </form>
      <div className="scroll">
        <table data-testid="compare-layers">
          <thead>
            <tr>
              <th className="text">layer</th>
              {compared.map((checkpoint, index) => (
                <th key={checkpoint.id} className="text">
                  {checkpoint.name}
                  {index > 0 ? ' (Δ vs first)' : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {layerNames.map((layerName) => {
              const first = compared[0]?.layers.get(layerName)?.values[metric] ?? null;
              return (
                <tr key={layerName} data-testid="compare-layer-row">
                  <td className="text" title={layerName}>
                    {layerName}
                  </td>
                  {compared.map((checkpoint, index) => {
                    const layer = checkpoint.layers.get(layerName);
                    const value = layer?.values[metric] ?? null;
                    const delta = index > 0 && value !== null && first !== null ? value - first : null;
                    return (
                      <td key={checkpoint.id} data-value={value ?? ''}>
                        {layer?.status === 'failed' ? 'failed' : formatNumber(value)}
                        {delta !== null && (
                          <span className="muted">
                            {' '}
                            ({delta >= 0 ? '+' : ''}
                            {formatNumber(delta)})
                          </span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
