/**
 * Generators of torch.save archives written by hand (no torch needed): one tensor "w" as a strided
 * view of one float storage, so the reader's view checks (bounds, amplification) can be exercised.
 */
import { buildZip } from '../zip-builder.ts';

/** A hand-written torch.save pickle: {"w": tensor(storage of `numel` floats, shape, stride)}. */
export function tensorPickle(numel: number, shape: number[], stride: number[]): Uint8Array {
  const text = (s: string) => [...Buffer.from(s, 'latin1')];
  const int = (n: number) => [0x4a, ...new Uint8Array(new Int32Array([n]).buffer)];
  const tuple = (items: number[][]) => [0x28, ...items.flat(), 0x74];
  const str = (s: string) => [0x8c, s.length, ...text(s)];
  return new Uint8Array([
    0x80,
    2,
    0x7d,
    0x28,
    ...str('w'),
    ...text('ctorch._utils\n_rebuild_tensor_v2\n'),
    0x28,
    ...tuple([str('storage'), text('ctorch\nFloatStorage\n'), str('0'), str('cpu'), int(numel)]),
    0x51,
    ...int(0),
    ...tuple(shape.map(int)),
    ...tuple(stride.map(int)),
    0x89,
    ...text('ccollections\nOrderedDict\n'),
    0x29,
    0x52,
    0x74,
    0x52,
    0x75,
    0x2e,
  ]);
}

/** A torch zip archive holding `tensorPickle(numel, shape, stride)` and `storageBytes` of zeros. */
export function torchZipBytes(
  numel: number,
  shape: number[],
  stride: number[],
  storageBytes: number,
): Uint8Array {
  return buildZip([
    { name: 'a/data.pkl', data: tensorPickle(numel, shape, stride) },
    { name: 'a/data/0', data: new Uint8Array(storageBytes) },
  ]);
}
