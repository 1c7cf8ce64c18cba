/**
 * The fuzz test's table: one row per (format, valid fixture). Each reader adds its rows here
 * (one line each). `compressed` marks containers whose members may legitimately inflate beyond
 * the file's size (bounded by deflate's ratio instead).
 */
export interface FuzzTarget {
  format: string;
  /** Fixture path relative to test/fixtures/formats/. */
  fixture: string;
  compressed?: boolean;
  /** Other files of a multi-file checkpoint, next to the fixture and not mutated. */
  siblings?: string[];
  /** The file opened, when it is not the mutated fixture (a mutated shard is opened by its manifest). */
  open?: string;
}

export const FUZZ_TARGETS: FuzzTarget[] = [
  { format: 'safetensors', fixture: 'safetensors/model.safetensors' },
  { format: 'pytorch', fixture: 'pytorch/state_dict.pt' },
  { format: 'pytorch', fixture: 'pytorch/training_checkpoint.pth' },
  { format: 'npy', fixture: 'numpy/dense.npy' },
  { format: 'npy', fixture: 'numpy/fortran.npy' },
  { format: 'npz', fixture: 'numpy/stored.npz' },
  { format: 'npz', fixture: 'numpy/compressed.npz', compressed: true },
  { format: 'gguf', fixture: 'gguf/model.gguf' },
  { format: 'onnx', fixture: 'onnx/small_cnn.onnx' },
  { format: 'onnx', fixture: 'onnx/if_subgraph.onnx' },
  { format: 'tflite', fixture: 'tflite/model.tflite' },
  // Holds a gzip-chunked dataset (decoded by h5wasm: bounded by deflate's ratio, like npz members).
  { format: 'keras-h5', fixture: 'keras/model.h5', compressed: true },
  { format: 'keras', fixture: 'keras/model.keras' },
  {
    format: 'safetensors',
    fixture: 'safetensors/sharded/model.safetensors.index.json',
    siblings: [
      'safetensors/sharded/model-00001-of-00002.safetensors',
      'safetensors/sharded/model-00002-of-00002.safetensors',
    ],
  },
  {
    format: 'pytorch',
    fixture: 'pytorch/sharded/pytorch_model-00002-of-00002.bin',
    siblings: [
      'pytorch/sharded/pytorch_model.bin.index.json',
      'pytorch/sharded/pytorch_model-00001-of-00002.bin',
    ],
    open: 'pytorch/sharded/pytorch_model.bin.index.json',
  },
  { format: 'tfjs', fixture: 'tfjs/model.json', siblings: ['tfjs/group1-shard1of1.bin'] },
  {
    format: 'tfjs',
    fixture: 'tfjs/group1-shard1of1.bin',
    siblings: ['tfjs/model.json'],
    open: 'tfjs/model.json',
  },
];
