import { db } from '../../../db/dashboard/client.ts';
import { fetchSweepList, temporalWorkflowUrl } from '../../../db/dashboard/sweeps.ts';
import { SweepLink } from '../../components/links.tsx';
import { TableHead, textColumns } from '../../components/table-head.tsx';
import { percent } from '../../view/format.ts';

export const dynamic = 'force-dynamic';

export default async function SweepsPage() {
  const sweeps = await fetchSweepList(db());
  return (
    <>
      <h1>Sweeps</h1>
      {sweeps.length === 0 && (
        <p>
          No sweeps yet. Start one with <code>npx weightlens sweep &lt;source&gt;</code>.
        </p>
      )}
      {sweeps.length > 0 && (
        <table data-testid="sweeps">
          <TableHead
            columns={[
              ...textColumns('sweep', 'status', 'progress'),
              'done',
              'failed',
              'total',
              ...textColumns('started', 'workflow'),
            ]}
          />
          <tbody>
            {sweeps.map((sweep) => {
              const finished = sweep.checkpointsDone + sweep.checkpointsFailed;
              return (
                <tr key={sweep.id} data-testid="sweep-row">
                  <td className="text">
                    <SweepLink id={sweep.id}>{sweep.name}</SweepLink>
                  </td>
                  <td className="text">{sweep.status}</td>
                  <td className="text">
                    <span className="progress" title={`${percent(finished, sweep.checkpointsTotal)}%`}>
                      <span style={{ width: `${percent(finished, sweep.checkpointsTotal)}%` }} />
                    </span>
                  </td>
                  <td>{sweep.checkpointsDone}</td>
                  <td>{sweep.checkpointsFailed}</td>
                  <td>{sweep.checkpointsTotal}</td>
                  <td className="text">{sweep.createdAt.toISOString().replace('T', ' ').slice(0, 19)}</td>
                  <td className="text">
                    <a href={temporalWorkflowUrl(sweep.workflowId)} target="_blank" rel="noreferrer">
                      Temporal
                    </a>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
