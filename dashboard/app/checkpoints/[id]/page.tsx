import Link from 'next/link';
import { notFound } from 'next/navigation';
import {
  type CurvatureRow,
  curvatureForLayer,
  fetchCheckpointDetail,
  type LayerRow,
} from '../../../../db/dashboard/checkpoint.ts';
import { db } from '../../../../db/dashboard/client.ts';
import { firstParam, type SearchParams } from '../../../../db/dashboard/params.ts';
import { checkpointPlans } from '../../../../db/plans.ts';
import { isLayerMetric, LAYER_METRIC_NAMES, type LayerMetric } from '../../../../lib/metrics/display.ts';
import { AlphaByLayerChart } from '../../../components/charts/alpha-by-layer.tsx';
import { EsdHistogramChart } from '../../../components/charts/esd-histogram.tsx';
import { CurvatureTable, SummaryCards } from '../../../components/checkpoint-tables.tsx';
import { ExpertHeatmap } from '../../../components/expert-heatmap.tsx';
import { type CompactLayerRow, LayerTable } from '../../../components/layer-table.tsx';
import { esdPlotData, readEigenvalues, storedLayerFit } from '../../../view/esd.ts';
import type { EsdPlotData } from '../../../view/esd-types.ts';
import { errorMessage, formatNumber } from '../../../view/format.ts';
import { hrefWith } from '../../../view/url.ts';

export const dynamic = 'force-dynamic';

async function loadEsd(
  layer: LayerRow | undefined,
): Promise<{ esd: EsdPlotData | null; problem: string | null }> {
  if (!layer) return { esd: null, problem: null };
  if (!layer.esdUri) return { esd: null, problem: `no stored eigenvalues for ${layer.layerName}` };
  try {
    const esd = esdPlotData(storedLayerFit(layer, layer.esdUri), await readEigenvalues(layer.esdUri));
    return { esd, problem: null };
  } catch (err) {
    return { esd: null, problem: `could not read ${layer.esdUri}: ${errorMessage(err)}` };
  }
}

/** Rows for the client-side table: values in column order, no per-cell markup on the wire. */
function compactRows(
  layers: LayerRow[],
  curvature: CurvatureRow | null,
  curvatureColumns: string[],
): CompactLayerRow[] {
  return layers.map((layer) => {
    const bulkMax = layer.extra.bulk_max;
    const perLayer = curvature ? curvatureForLayer(curvature.perLayer, layer.layerName) : undefined;
    return {
      layerId: layer.layerId,
      layerName: layer.layerName,
      layerType: layer.layerType,
      status: layer.status,
      warning: layer.warning ?? '',
      error: layer.error ?? '',
      values: LAYER_METRIC_NAMES.map((metric) => layer.values[metric]),
      bulkMax: typeof bulkMax === 'number' ? bulkMax : null,
      curvature: curvatureColumns.map((column) => perLayer?.[column] ?? null),
    };
  });
}

/**
 * The layers in table order: layer order, or by one registry metric (`?sort=<metric>&dir=asc|desc`;
 * missing values last, ties in layer order). An unknown sort key keeps layer order.
 */
function sortedLayers(layers: LayerRow[], sort: LayerMetric | null, descending: boolean): LayerRow[] {
  if (sort === null) return layers;
  return layers
    .map((layer, index) => ({ layer, index }))
    .sort((a, b) => {
      const x = a.layer.values[sort];
      const y = b.layer.values[sort];
      if (x === null || y === null) return Number(x === null) - Number(y === null) || a.index - b.index;
      return (descending ? y - x : x - y) || a.index - b.index;
    })
    .map(({ layer }) => layer);
}

export default async function CheckpointPage(props: {
  params: Promise<{ id: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const { id } = await props.params;
  const searchParams = await props.searchParams;
  const detail = await fetchCheckpointDetail(
    db(),
    decodeURIComponent(id),
    firstParam(searchParams, 'config'),
  );
  if (!detail) notFound();
  const { checkpoint, summary, layers } = detail;
  const plans = await checkpointPlans(db(), checkpoint.id);
  const layerParam = firstParam(searchParams, 'layer');
  const analyzed = layers.filter((layer) => layer.status === 'succeeded');
  const selected =
    (layerParam !== null ? layers.find((layer) => String(layer.layerId) === layerParam) : undefined) ??
    analyzed.find((layer) => layer.esdUri !== null) ??
    analyzed[0];
  const { esd, problem } = await loadEsd(selected);
  const basePath = `/checkpoints/${encodeURIComponent(checkpoint.id)}`;
  const alphaPoints = analyzed
    .filter((layer) => layer.values.alpha !== null)
    .map((layer) => ({ layerId: layer.layerId, name: layer.layerName, alpha: layer.values.alpha! }));
  const curvature = detail.curvatures.find((row) => row.status === 'succeeded') ?? null;
  const sortParam = firstParam(searchParams, 'sort');
  const sort = isLayerMetric(sortParam) ? sortParam : null;
  const descending = firstParam(searchParams, 'dir') === 'desc';
  const pageQuery = { config: detail.configHash, layer: layerParam };
  const sortHrefs = LAYER_METRIC_NAMES.map((metric) =>
    hrefWith(basePath, pageQuery, { sort: metric, dir: metric === sort && !descending ? 'desc' : null }),
  );
  const curvatureColumns = [
    ...new Set([...(curvature?.perLayer.values() ?? [])].flatMap((fields) => Object.keys(fields))),
  ];
  return (
    <>
      <h1 data-testid="checkpoint-name">{detail.name}</h1>
      <p className="muted">
        <span data-testid="checkpoint-uri">{checkpoint.uri}</span> · {checkpoint.format}
        {checkpoint.family && <> · family {checkpoint.family}</>}
        {checkpoint.run && <> · run {checkpoint.run}</>}
        {checkpoint.step !== null && <> · step {checkpoint.step}</>}
        {checkpoint.epoch !== null && <> · epoch {checkpoint.epoch}</>}
        {checkpoint.knownTestAccuracy !== null && (
          <> · known test accuracy {formatNumber(checkpoint.knownTestAccuracy, 4)}</>
        )}
      </p>
      {detail.base && (
        <p data-testid="checkpoint-base">
          Relative to base <code>{detail.base.uri}</code>
          {detail.base.contentHash && (
            <span className="muted"> (content {detail.base.contentHash.slice(0, 12)})</span>
          )}
          : rows are ΔW = W − W_base of the tensors both have with one shape (‖ΔW‖/‖W_base‖ in the table);
          LoRA modules are ΔW (<code>lora</code>) and the merged W_base + ΔW (<code>lora_merged</code>).
        </p>
      )}
      {detail.configs.length > 1 && (
        <p>
          Analysis config:{' '}
          {detail.configs.map((hash) => (
            <Link
              prefetch={false}
              key={hash}
              href={hrefWith(basePath, { config: hash })}
              style={{ marginRight: '0.75rem' }}
            >
              {hash === detail.configHash ? <strong>{hash.slice(0, 12)}</strong> : hash.slice(0, 12)}
            </Link>
          ))}
        </p>
      )}
      {detail.sweeps.length > 0 && (
        <p className="muted">
          In sweeps:{' '}
          {detail.sweeps.map((sweep) => (
            <Link
              prefetch={false}
              key={sweep.id}
              href={`/sweeps/${encodeURIComponent(sweep.id)}`}
              style={{ marginRight: '0.75rem' }}
            >
              {sweep.name} ({sweep.itemStatus})
            </Link>
          ))}
        </p>
      )}
      {plans.length > 0 && (
        <p className="muted" data-testid="checkpoint-plans">
          Plans:{' '}
          {plans.map((plan) => (
            <Link
              prefetch={false}
              key={plan.id}
              href={`/plans/${encodeURIComponent(plan.id)}`}
              data-testid="plan-link"
              style={{ marginRight: '0.75rem' }}
            >
              {plan.method}
              {plan.avgBits !== null ? ` ${plan.avgBits.toFixed(2)} bits` : ''}
              {plan.sparsity ? `, ${(plan.sparsity * 100).toFixed(0)}% sparse` : ''} ({plan.status})
            </Link>
          ))}
        </p>
      )}
      <SummaryCards summary={summary} curvature={curvature} />
      <div className="charts">
        {alphaPoints.length > 0 && (
          <AlphaByLayerChart points={alphaPoints} selectedLayerId={selected?.layerId ?? null} />
        )}
        {esd && <EsdHistogramChart esd={esd} />}
        {problem && (
          <p className="muted" data-testid="esd-problem">
            {problem}
          </p>
        )}
      </div>
      {detail.expertCells.length > 0 && (
        <ExpertHeatmap cells={detail.expertCells} groups={detail.expertGroups} />
      )}
      {detail.curvatures.length > 0 && <CurvatureTable rows={detail.curvatures} />}
      <h2>Layers ({layers.length})</h2>
      <LayerTable
        rows={compactRows(sortedLayers(layers, sort, descending), curvature, curvatureColumns)}
        sortHrefs={sortHrefs}
        curvatureColumns={curvatureColumns}
        selectedLayerId={selected?.layerId ?? null}
        layerHrefPrefix={`${hrefWith(basePath, { config: detail.configHash })}${detail.configHash ? '&' : '?'}layer=`}
      />
    </>
  );
}
