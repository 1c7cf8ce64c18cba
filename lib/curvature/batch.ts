/**
 * Resolves a data-source description (what the CLI flags and the activity input say) into a
 * labelled batch: stored .npz or a data set's test split, data-free random or ZeroQ-distilled
 * inputs, optionally perturbed adversarially. Returns a short description for stored results.
 */
import { BadInputError } from '../errors.ts';
import type { ObjectOpener } from '../formats/types.ts';
import { adversarialBatch } from './adversarial.ts';
import { datasetTestBatch, npzBatch, randomBatch } from './data.ts';
import { distilledBatch } from './distill.ts';
import type { LabelledBatch } from './hvp.ts';
import type { CurvatureNetwork } from './network.ts';

export interface DataSourceOptions {
  /** .npz URI with arrays x and y, or 'fashion-mnist' / 'mnist' (test split). */
  data?: string;
  distilled?: boolean;
  random?: boolean;
  samples: number;
  seed: number;
  adversarial?: 'fgsm' | 'pgd';
  epsilon: number;
}

/** Exactly one source must be chosen (cheap: call before loading anything). */
export function checkDataSource(options: Pick<DataSourceOptions, 'data' | 'distilled' | 'random'>): void {
  const chosen = [options.data !== undefined, !!options.distilled, !!options.random].filter(Boolean).length;
  if (chosen !== 1) throw new BadInputError('choose exactly one of --data <uri>, --distilled, --random');
}

/** Describes the batch for results ("fashion-mnist:test[0:256]", "random:256", …). */
export async function resolveBatch(
  network: CurvatureNetwork,
  options: DataSourceOptions,
  opener: ObjectOpener,
  /** Called during long preparations (every ZeroQ step), e.g. to heartbeat. */
  onProgress?: (line: string) => void,
): Promise<{ batch: LabelledBatch; source: string }> {
  checkDataSource(options);
  let batch: LabelledBatch;
  let source: string;
  if (options.distilled) {
    batch = distilledBatch(network, {
      count: options.samples,
      seed: options.seed,
      onStep: onProgress && ((step, loss) => onProgress(`distilling: step ${step + 1}, loss ${loss}`)),
    });
    source = `distilled:${options.samples}`;
  } else if (options.random) {
    batch = randomBatch(network, options.samples, { seed: options.seed });
    source = `random:${options.samples}`;
  } else {
    const uri = options.data!;
    const dataset = uri.replace(/:test$/, '');
    if (dataset === 'fashion-mnist' || dataset === 'mnist') {
      batch = datasetTestBatch(dataset, network, options.samples);
    } else {
      batch = await npzBatch(uri, opener, network, options.samples);
    }
    source = `${uri}[0:${batch.labels.length}]`;
  }
  if (options.adversarial) {
    batch = adversarialBatch(network, batch, {
      method: options.adversarial,
      epsilon: options.epsilon,
      seed: options.seed,
    });
    source += `+${options.adversarial}(${options.epsilon})`;
  }
  return { batch, source };
}
