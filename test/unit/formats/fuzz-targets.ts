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
];
