/**
 * `weightlens inspect <uri> [--format table|json]`: a checkpoint's format, metadata and tensors,
 * with the layer mapper's verdict per tensor. Reads headers only (no tensor data). A directory or
 * prefix holding several checkpoints prints each (JSON: an array); one that cannot be read is a
 * stderr line and `{checkpoint, error}` in its place, the others still printed, exit status 1.
 */
import { type Command, Option } from 'commander';
import { discoverCheckpoints } from '../../lib/formats/discover.ts';
import { openCheckpoint } from '../../lib/formats/index.ts';
import { mapTensors } from '../../lib/formats/layers.ts';
import type { CheckpointMetadata, DiscoveredCheckpoint, ObjectOpener } from '../../lib/formats/types.ts';
import { createStorage } from '../../storage/index.ts';
import {
  type CheckpointFailure,
  isCheckpointFailure,
  reportCheckpointFailure,
} from '../checkpoint-failure.ts';
import { terminalText } from '../terminal-text.ts';

export interface InspectedTensor {
  name: string;
  dtype: string;
  shape: number[];
  layer_type: string;
  analyzed: boolean;
  reason?: string;
}

export interface InspectReport {
  uri: string;
  format: string;
  metadata: CheckpointMetadata;
  size_bytes: number;
  tensors: InspectedTensor[];
}

export async function inspectCheckpoint(
  checkpoint: DiscoveredCheckpoint,
  opener: ObjectOpener,
): Promise<InspectReport> {
  const opened = await openCheckpoint(checkpoint.uri, opener);
  const tensors = mapTensors(opened).map((m): InspectedTensor => {
    const row: InspectedTensor = {
      name: m.tensor.name,
      dtype: m.tensor.dtype,
      shape: m.tensor.shape,
      layer_type: m.layerType,
      analyzed: m.analyzed,
    };
    if (m.reason) row.reason = m.reason;
    return row;
  });
  return {
    uri: checkpoint.uri,
    format: opened.format,
    metadata: checkpoint.metadata,
    size_bytes: checkpoint.sizeBytes,
    tensors,
  };
}

export function formatInspectTable(report: InspectReport): string {
  const lines = [terminalText(report.uri), `  format: ${report.format}   size: ${report.size_bytes} bytes`];
  const meta = Object.entries(report.metadata);
  if (meta.length > 0)
    lines.push(terminalText(`  metadata: ${meta.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`));
  const rows = report.tensors.map((t) => [
    terminalText(t.name),
    t.dtype,
    `[${t.shape.join(', ')}]`,
    t.layer_type,
    t.analyzed ? 'yes' : terminalText(`no (${t.reason ?? ''})`),
  ]);
  const header = ['tensor', 'dtype', 'shape', 'layer_type', 'analyzed'];
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col]!.length)));
  const render = (cells: string[]) =>
    `  ${cells.map((c, col) => c.padEnd(widths[col]!)).join('  ')}`.trimEnd();
  lines.push(render(header), render(widths.map((w) => '-'.repeat(w))), ...rows.map(render));
  const analyzed = report.tensors.filter((t) => t.analyzed).length;
  lines.push(`  ${report.tensors.length} tensors, ${analyzed} analyzed as layers`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description("list a checkpoint's format, metadata and tensors (a file, directory or s3:// prefix)")
    .argument('<uri>', 'checkpoint file, directory, or s3://bucket/prefix')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (uri: string, options: { format: 'table' | 'json' }) => {
      const storage = createStorage();
      const checkpoints = await discoverCheckpoints(uri, storage);
      // Each checkpoint on its own: one that cannot be read is reported, the others still listed.
      const entries: (InspectReport | CheckpointFailure)[] = [];
      for (const checkpoint of checkpoints) {
        try {
          entries.push(await inspectCheckpoint(checkpoint, storage));
        } catch (err) {
          entries.push(reportCheckpointFailure(checkpoint, err));
        }
      }
      const reports = entries.filter((e): e is InspectReport => !isCheckpointFailure(e));
      if (options.format === 'json') {
        if (entries.length === 1 && reports.length === 1) {
          process.stdout.write(`${JSON.stringify(reports[0], null, 2)}\n`);
        } else if (entries.length !== 1) {
          process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        }
      } else if (reports.length > 0) {
        const failed = entries.length - reports.length;
        const tables = reports.map(formatInspectTable);
        if (failed > 0)
          tables.push(
            `${reports.length} of ${entries.length} checkpoints inspected, ${failed} failed (see stderr)`,
          );
        process.stdout.write(`${tables.join('\n\n')}\n`);
      }
    });
}
