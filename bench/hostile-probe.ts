/**
 * One measurement of bench:hostile, in its own process (so peak RSS is this input's): discover the
 * checkpoint(s) at argv[2], open each, plan its layers and read every planned layer's weights, as
 * `analyze` does before any eigenvalue. Prints one JSON line: format, tensor count, CPU ms of that
 * work, peak RSS growth over the RSS after imports, and the error line if the input was refused.
 */
import { errorLine } from '../lib/errors.ts';
import { discoverCheckpoints } from '../lib/formats/discover.ts';
import { openCheckpoint } from '../lib/formats/index.ts';
import { readLayerWeights } from '../lib/formats/layers.ts';
import { planLayers } from '../lib/layer-plan.ts';
import { defaultAnalysisConfig } from '../lib/spectral/index.ts';
import { FileStorage } from '../storage/file.ts';

const target = process.argv[2]!;
const storage = new FileStorage();
const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
let format = '?';
let tensors = 0;
let error: string | null = null;
try {
  const found = await discoverCheckpoints(target, storage);
  if (found.length === 0) throw new Error('no checkpoint found');
  for (const checkpoint of found) {
    format = checkpoint.format;
    const ckpt = await openCheckpoint(checkpoint.uri, storage);
    tensors += ckpt.tensors.length;
    for (const layer of planLayers(ckpt, defaultAnalysisConfig).layers)
      await readLayerWeights(ckpt, layer.mapped);
  }
} catch (err) {
  error = errorLine(err);
}
const cpu = process.cpuUsage(cpuBefore);
// maxRSS is in KiB and covers the whole process; its growth past the post-import RSS is this input's.
const peakGrowth = Math.max(0, process.resourceUsage().maxRSS * 1024 - rssBefore);
process.stdout.write(
  `${JSON.stringify({ format, tensors, cpuMs: (cpu.user + cpu.system) / 1000, peakRssGrowthBytes: peakGrowth, error })}\n`,
);
