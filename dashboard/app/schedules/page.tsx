import Link from 'next/link';
import { db } from '../../../db/dashboard/client.ts';
import { scheduleOverview } from '../../../db/schedules.ts';
import { TableHead } from '../../components/table-head.tsx';
import { formatWhen as when } from '../../view/format.ts';

export const dynamic = 'force-dynamic';

export default async function SchedulesPage() {
  const schedules = await scheduleOverview(db());
  return (
    <>
      <h1>Schedules</h1>
      <p>
        Sweeps that run on their own (<code>weightlens schedule create</code>, <code>weightlens watch</code>
        ). Each run sweeps the sources as they are then; only new or changed checkpoints are computed.
      </p>
      {schedules.length === 0 ? (
        <p data-testid="no-schedules">No schedules yet.</p>
      ) : (
        <table>
          <TableHead columns={['schedule', 'timing', 'state', 'last run', 'next run', 'runs', 'alerts']} />
          <tbody>
            {schedules.map((s) => (
              <tr key={s.name} data-testid="schedule-row">
                <td>
                  <Link prefetch={false} href={`/schedules/${encodeURIComponent(s.name)}`}>
                    {s.name}
                  </Link>
                  {s.watch && <span className="badge"> watch</span>}
                </td>
                <td>{s.timing}</td>
                <td>{s.paused ? 'paused' : 'active'}</td>
                <td>{when(s.lastRunAt)}</td>
                <td>{when(s.nextRunAt)}</td>
                <td className="num">{s.runs}</td>
                <td className="num" data-testid="schedule-alerts">
                  {s.alerts}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
