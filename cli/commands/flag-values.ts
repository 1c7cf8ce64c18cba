/**
 * Flag values parsed one way by every command (commander prints the refusal with the flag's name),
 * and the flags of the labelled batch a model is measured on (lib/curvature/batch.ts).
 */
import { type Command, InvalidArgumentError } from 'commander';

/** An integer ≥ `min`. */
export const integerAtLeast = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
  return n;
};

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/**
 * `--data <uri> | --distilled | --random` and `--samples <n>`: the batch (real, ZeroQ-distilled or
 * random inputs). `scope` opens each help line (e.g. the methods that use them).
 */
export function addBatchOptions(command: Command, scope = ''): Command {
  return command
    .option('--data <uri>', `${scope}.npz with arrays x and y, or fashion-mnist | mnist (test split)`)
    .option('--distilled', `${scope}data-free: ZeroQ inputs matching the BatchNorm statistics`)
    .option('--random', `${scope}data-free: uniform [0,1] inputs labelled by the model`)
    .option('--samples <n>', `${scope}batch size`, integerAtLeast(1), 256);
}
