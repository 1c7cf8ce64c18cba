import Link from 'next/link';
import { notFound } from 'next/navigation';
import { db } from '../../../../db/dashboard/client.ts';
import { fetchSweepStatus, SWEEP_ITEMS_SHOWN, SWEEP_LAYERS_SHOWN } from '../../../../db/dashboard/sweeps.ts';
import { formatEta, sweepLayerProgress } from '../../../../db/layer-progress.ts';
import { CheckpointLink } from '../../../components/links.tsx';
import { TableHead, textColumns } from '../../../components/table-head.tsx';
import { percent } from '../../../view/format.ts';
import { hrefWith } from '../../../view/url.ts';

export const dynamic = 'force-dynamic';

const ITEM_COLUMNS = [
  ...textColumns('checkpoint', 'status'),
  'layers done',
  'failed',
  'total',
  { text: 'reason' },
];

export default async function SweepStatusPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const view = await fetchSweepStatus(db(), decodeURIComponent(id));
  if (!view) notFound();
  const { sweep } = view;
  // Layers as their rows are stored (a big checkpoint moves the bar long before it finishes).
  const stored = await sweepLayerProgress(db(), sweep.id);
  const running = sweep.status === 'running' || sweep.status === 'pending';
  const finished = sweep.checkpointsDone + sweep.checkpointsFailed;
  const layerTotal = Object.values(view.layerCounts).reduce((sum, count) => sum + count, 0);
  return (
    <>
      <h1 data-testid="sweep-name">{sweep.name}</h1>
      <p>
        Status{' '}
        <strong data-testid="sweep-status" data-status={sweep.status}>
          {sweep.status.replaceAll('_', ' ')}
        </strong>{' '}
        ·{' '}
        <span className="progress">
          <span style={{ width: `${percent(finished, sweep.checkpointsTotal)}%` }} />
        </span>{' '}
        <span data-testid="sweep-progress">
          {finished} / {sweep.checkpointsTotal} checkpoints ({sweep.checkpointsDone} done,{' '}
          {sweep.checkpointsFailed} failed)
        </span>{' '}
        ·{' '}
        <span className="progress">
          <span style={{ width: `${percent(stored.layersDone, stored.layersTotal)}%` }} />
        </span>{' '}
        <span data-testid="sweep-layer-progress">
          {stored.layersDone} / {stored.layersTotal} layers stored
          {stored.checkpointsInspected < stored.checkpointsTotal &&
            ` (${stored.checkpointsInspected} of ${stored.checkpointsTotal} checkpoints inspected)`}
          {running &&
            stored.etaSeconds !== null &&
            stored.etaSeconds > 0 &&
            `, ETA ${formatEta(stored.etaSeconds)}`}
        </span>{' '}
        ·{' '}
        <a href={view.temporalUrl} target="_blank" rel="noreferrer" data-testid="temporal-link">
          workflow {sweep.workflowId} in the Temporal Web UI
        </a>{' '}
        ·{' '}
        <Link prefetch={false} href={hrefWith('/', { sweep: sweep.id })}>
          leaderboard of this sweep
        </Link>
      </p>
      {sweep.error && <p className="error">{sweep.error}</p>}
      <div className="cards">
        {['pending', 'running', 'succeeded', 'incomplete', 'failed', 'skipped'].map((status) => (
          <div className="card" key={status} data-testid={`items-${status}`}>
            <div className="label">checkpoints {status}</div>
            <div className="value">{view.itemCounts[status] ?? 0}</div>
          </div>
        ))}
        {['running', 'succeeded', 'failed', 'skipped'].map((status) => (
          <div className="card" key={`layers-${status}`} data-testid={`layers-${status}`}>
            <div className="label">layers {status}</div>
            <div className="value">
              {view.layerCounts[status] ?? 0}
              <span className="muted"> / {layerTotal}</span>
            </div>
          </div>
        ))}
      </div>
      <h2>Running and failed layers</h2>
      {view.layers.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table data-testid="problem-layers">
          <TableHead columns={textColumns('checkpoint', 'layer', 'status', 'worker', 'reason')} />
          <tbody>
            {view.layers.map((layer) => (
              <tr key={`${layer.checkpointId}/${layer.layerName}`} data-testid="problem-layer-row">
                <td className="text">
                  <CheckpointLink id={layer.checkpointId} config={sweep.configHash}>
                    {layer.checkpointName}
                  </CheckpointLink>
                </td>
                <td className="text">{layer.layerName}</td>
                <td className="text">{layer.status}</td>
                <td className="text">{layer.worker ?? '—'}</td>
                <td className="error">{layer.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.layers.length >= SWEEP_LAYERS_SHOWN && (
        <p className="muted">Showing the first {SWEEP_LAYERS_SHOWN}.</p>
      )}
      <h2>Checkpoints</h2>
      <div className="scroll">
        <table data-testid="sweep-items">
          <TableHead columns={ITEM_COLUMNS} />
          <tbody>
            {view.items.map((item) => (
              <tr key={item.checkpointId} data-testid="sweep-item-row" data-status={item.status}>
                <td className="text">
                  <CheckpointLink id={item.checkpointId} config={sweep.configHash}>
                    {item.name}
                  </CheckpointLink>
                </td>
                <td className="text">
                  {item.status === 'incomplete'
                    ? `incomplete: ${item.layersDone} of ${item.layersTotal} layers`
                    : item.status}
                </td>
                <td>{item.layersDone}</td>
                <td>{item.layersFailed}</td>
                <td>{item.layersTotal}</td>
                <td className="error">{item.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {view.items.length >= SWEEP_ITEMS_SHOWN && (
        <p className="muted">Showing {SWEEP_ITEMS_SHOWN} checkpoints (unfinished and failed first).</p>
      )}
    </>
  );
}
