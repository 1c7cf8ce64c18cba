'use client';
/**
 * The per-layer table of the checkpoint page. A client component on purpose: the server sends the
 * rows once as compact arrays (about a tenth of the size of the rendered table as a server-component
 * payload, which dominated the page's server time at 100 layers) and the table is still
 * server-rendered into the HTML. (A 'use client' module may export only components: shared values
 * live in lib/.)
 */
import Link from 'next/link';
import { LAYER_METRIC_NAMES } from '../../lib/metrics/display.ts';
import { formatNumber } from '../view/format.ts';

export interface CompactLayerRow {
  layerId: number;
  layerName: string;
  layerType: string;
  status: string;
  warning: string;
  error: string;
  /** In LAYER_METRIC_NAMES order. */
  values: (number | null)[];
  bulkMax: number | null;
  /** In the order of the table's curvatureColumns. */
  curvature: (number | null)[];
}

export function LayerTable(props: {
  rows: CompactLayerRow[];
  curvatureColumns: string[];
  selectedLayerId: number | null;
  /** Link target of a layer: this prefix + its layer id. */
  layerHrefPrefix: string;
  /** Per metric column (LAYER_METRIC_NAMES order): the link that sorts the table by it. */
  sortHrefs: string[];
}) {
  const alphaIndex = LAYER_METRIC_NAMES.indexOf('alpha');
  return (
    <div className="scroll">
      <table data-testid="layers">
        <thead>
          <tr>
            <th>id</th>
            <th className="text">layer</th>
            <th className="text">type</th>
            <th className="text">status</th>
            <th className="text">warning</th>
            {LAYER_METRIC_NAMES.map((metric, index) => (
              <th key={metric}>
                <Link href={props.sortHrefs[index]!} data-testid={`sort-${metric}`} prefetch={false}>
                  {metric}
                </Link>
              </th>
            ))}
            <th>bulk_max</th>
            {props.curvatureColumns.map((column) => (
              <th key={column}>hessian {column}</th>
            ))}
            <th className="text">error</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr
              key={row.layerName}
              className={row.layerId === props.selectedLayerId ? 'selected' : undefined}
              data-testid="layer-row"
            >
              <td>{row.layerId}</td>
              <td className="text" title={row.layerName}>
                <Link
                  href={`${props.layerHrefPrefix}${row.layerId}`}
                  data-testid="layer-name"
                  prefetch={false}
                >
                  {row.layerName}
                </Link>
              </td>
              <td className="text">{row.layerType}</td>
              <td className="text">{row.status}</td>
              <td className="text">{row.warning}</td>
              {row.values.map((value, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the columns are fixed, the index is the column
                <td key={index} data-testid={index === alphaIndex ? 'layer-alpha' : undefined}>
                  {formatNumber(value)}
                </td>
              ))}
              <td>{formatNumber(row.bulkMax)}</td>
              {row.curvature.map((value, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: same as above
                <td key={index}>{formatNumber(value)}</td>
              ))}
              <td className="error">{row.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
