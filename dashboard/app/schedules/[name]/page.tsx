import { notFound } from 'next/navigation';
import { db } from '../../../../db/dashboard/client.ts';
import { choiceParam, type SearchParams } from '../../../../db/dashboard/params.ts';
import { scheduleDetail, scheduleTrend } from '../../../../db/schedules.ts';
import { DEFAULT_SUMMARY_METRIC } from '../../../../lib/metrics/display.ts';
import { SUMMARY_COLUMNS } from '../../../../lib/spectral/summary.ts';
import { AutoRefresh } from '../../../components/auto-refresh.tsx';
import { ScheduleTrendChart } from '../../../components/charts/schedule-trend.tsx';
import { SelectField } from '../../../components/filters.tsx';
import { SweepLink } from '../../../components/links.tsx';
import { TableHead } from '../../../components/table-head.tsx';
import { formatWhen as when } from '../../../view/format.ts';

export const dynamic = 'force-dynamic';

const REFRESH_SECONDS = 5;

export default async function SchedulePage(props: {
  params: Promise<{ name: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const name = decodeURIComponent((await props.params).name);
  const metric = choiceParam(await props.searchParams, 'metric', SUMMARY_COLUMNS, DEFAULT_SUMMARY_METRIC);
  const detail = await scheduleDetail(db(), name);
  if (!detail) notFound();
  const trend = await scheduleTrend(db(), name, metric);
  const { record, sweeps, alerts } = detail;
  const latest = sweeps[0];
  const points = trend
    .filter((p) => p.step !== null && p.value !== null)
    .map((p) => ({
      x: p.step!,
      y: p.value!,
      isNew: p.isNew,
      label: `${p.uri}\nstep ${p.step}: ${metric} = ${p.value!.toFixed(4)}${p.isNew ? ' (new)' : ''}`,
    }));
  return (
    <>
      {record.deletedAt === null && !record.paused && <AutoRefresh seconds={REFRESH_SECONDS} />}
      <h1 data-testid="schedule-name">{record.name}</h1>
      <p>
        <strong data-testid="schedule-state">
          {record.deletedAt ? 'deleted' : record.paused ? 'paused' : 'active'}
        </strong>{' '}
        · {record.timing}
        {record.watch && <> · watching (complete when: {record.watch})</>} · next run{' '}
        <span data-testid="schedule-next">{when(record.nextRunAt)}</span> · last run{' '}
        <span data-testid="schedule-last">{when(record.lastRunAt)}</span>
      </p>
      <p>
        Sources: <code>{(record.sources as string[]).join(' ')}</code>
        <br />
        Alert rules: {(record.alerts as string[]).length ? (record.alerts as string[]).join('; ') : 'none'}
      </p>
      {latest && (
        <p data-testid="schedule-latest">
          Latest run <SweepLink id={latest.id}>{latest.id}</SweepLink> ({latest.status}):{' '}
          {latest.checkpointsTotal} checkpoints, {latest.checkpointsDone} analyzed, {latest.checkpointsFailed}{' '}
          failed; {trend.filter((p) => p.isNew).length} new.
        </p>
      )}
      <form className="filters" method="get">
        <SelectField label="Metric" name="metric" value={metric} choices={SUMMARY_COLUMNS} />
        <button type="submit">Show</button>
      </form>
      {points.length > 0 ? (
        <ScheduleTrendChart points={points} yLabel={metric} />
      ) : (
        <p>No analyzed checkpoint with a step yet.</p>
      )}
      <h2>Alerts</h2>
      {alerts.length === 0 ? (
        <p data-testid="no-alerts">No alert has fired.</p>
      ) : (
        <table>
          <TableHead columns={['fired', 'rule', 'checkpoint', 'step', 'value', 'delivered']} />
          <tbody>
            {alerts.map((a) => (
              <tr key={a.id} data-testid="alert-row">
                <td>{when(a.createdAt)}</td>
                <td>{a.rule}</td>
                <td>{a.checkpoint.uri}</td>
                <td className="num">{a.checkpoint.step ?? '—'}</td>
                <td className="num">{a.value.toPrecision(6)}</td>
                <td>{a.deliveredAt ? when(a.deliveredAt) : (a.deliveryError ?? '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Runs</h2>
      <table>
        <TableHead columns={['sweep', 'status', 'started', 'checkpoints', 'analyzed', 'failed']} />
        <tbody>
          {sweeps.map((s) => (
            <tr key={s.id} data-testid="run-row">
              <td>
                <SweepLink id={s.id}>{s.id}</SweepLink>
              </td>
              <td>{s.status}</td>
              <td>{when(s.createdAt)}</td>
              <td className="num">{s.checkpointsTotal}</td>
              <td className="num">{s.checkpointsDone}</td>
              <td className="num">{s.checkpointsFailed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
