/**
 * The two architectures of the trained zoo, as TF.js layers models with explicit layer names
 * (so tensor names are stable: "dense_1/kernel", "conv2d_2/bias", …, the same in model.json and
 * model.safetensors) and seeded initializers (so a run regenerates).
 */
import * as tfl from '@tensorflow/tfjs-layers';

export type Architecture = 'mlp' | 'cnn';

export interface ModelSpec {
  architecture: Architecture;
  /** MLP: width of both hidden layers. CNN: width of the dense hidden layer. */
  hiddenWidth: number;
  /** L2 penalty coefficient on kernels (added to the loss as wd·Σw²); 0 = none. */
  weightDecay: number;
}

/** CNN channels: conv 3×3 1→8, pool, conv 3×3 8→16, pool. Small because wasm conv backprop is slow. */
const CNN_CHANNELS = [8, 16] as const;

function kernelOptions(spec: ModelSpec, seed: number) {
  return {
    kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    biasInitializer: tfl.initializers.zeros(),
    kernelRegularizer: spec.weightDecay > 0 ? tfl.regularizers.l2({ l2: spec.weightDecay }) : undefined,
  };
}

export function buildModel(spec: ModelSpec, seed: number): tfl.Sequential {
  const model = tfl.sequential({ name: `${spec.architecture}_w${spec.hiddenWidth}` });
  if (spec.architecture === 'mlp') {
    model.add(tfl.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }));
    model.add(
      tfl.layers.dense({
        units: spec.hiddenWidth,
        activation: 'relu',
        name: 'dense_1',
        ...kernelOptions(spec, seed),
      }),
    );
    model.add(
      tfl.layers.dense({
        units: spec.hiddenWidth,
        activation: 'relu',
        name: 'dense_2',
        ...kernelOptions(spec, seed + 1),
      }),
    );
    model.add(
      tfl.layers.dense({
        units: 10,
        activation: 'softmax',
        name: 'dense_3',
        ...kernelOptions(spec, seed + 2),
      }),
    );
    return model;
  }
  model.add(
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: CNN_CHANNELS[0],
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'conv2d_1',
      ...kernelOptions(spec, seed),
    }),
  );
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool_1' }));
  model.add(
    tfl.layers.conv2d({
      filters: CNN_CHANNELS[1],
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'conv2d_2',
      ...kernelOptions(spec, seed + 1),
    }),
  );
  model.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool_2' }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  model.add(
    tfl.layers.dense({
      units: spec.hiddenWidth,
      activation: 'relu',
      name: 'dense_1',
      ...kernelOptions(spec, seed + 2),
    }),
  );
  model.add(
    tfl.layers.dense({ units: 10, activation: 'softmax', name: 'dense_2', ...kernelOptions(spec, seed + 3) }),
  );
  return model;
}
