/**
 * Sets up TF.js on the wasm backend for training in Node (tfjs-node cannot be installed here; the
 * cpu backend is 5–10× slower). The wasm backend has no Conv2DBackpropFilter kernel, so conv
 * layers could not be trained; we register one that runs the backend's own
 * Conv3DBackpropFilterV2 on depth-1 views of the same buffers (an NHWC 2-D conv is an NDHWC 3-D
 * conv with depth 1, and the memory layout is identical, so no copy is made).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers every op's gradient (tfjs-core alone registers none).
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

export type TrainingBackend = 'wasm' | 'cpu';

function withShape(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

function registerWasmConv2DBackpropFilter(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') !== undefined) return;
  const conv3dFilterGrad = tf.getKernel(tf.Conv3DBackpropFilterV2, 'wasm');
  if (conv3dFilterGrad === undefined) throw new Error('tfjs wasm backend lacks Conv3DBackpropFilterV2');
  const kernelFunc = (args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (wasm): only NHWC');
    if (typeof attrs.pad !== 'string')
      throw new Error("Conv2DBackpropFilter (wasm): only 'same'/'valid' pad");
    const [batch, height, width, inChannels] = x.shape as [number, number, number, number];
    const [, outHeight, outWidth, outChannels] = dy.shape as [number, number, number, number];
    const [strideH, strideW] =
      typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
    // The wasm Conv3DBackpropFilterV2 gives wrong values for strides > 1 (checked against the cpu
    // backend and by hand in test/unit/zoo); the zoo's convs all have stride 1.
    if (strideH !== 1 || strideW !== 1) throw new Error('Conv2DBackpropFilter (wasm): only stride 1');
    const [kh, kw, ci, co] = attrs.filterShape;
    const result = conv3dFilterGrad.kernelFunc({
      inputs: {
        x: withShape(x, [batch, 1, height, width, inChannels]),
        dy: withShape(dy, [batch, 1, outHeight, outWidth, outChannels]),
      },
      backend: args.backend as tf.KernelBackend,
      attrs: { strides: [1, 1, 1], pad: attrs.pad, filterShape: [1, kh, kw, ci, co] },
    }) as TensorInfo;
    return withShape(result, [kh, kw, ci, co]);
  };
  const config: KernelConfig = {
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
  tf.registerKernel(config);
}

/** Select the backend (wasm by default) and make conv layers trainable on it. */
export async function initTrainingBackend(backend: TrainingBackend = 'wasm'): Promise<void> {
  if (backend === 'wasm') registerWasmConv2DBackpropFilter();
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tfjs backend ${backend} failed to initialize`);
  await tf.ready();
}
