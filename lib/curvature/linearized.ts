/**
 * One batch chunk with its forward activations and first-order gradients computed once, so each
 * Hessian-vector product is only the two directional passes (R-forward, R-backward) of stages.ts:
 * what PyHessian gets by building the gradient graph once and back-propagating g·v through it.
 * The loss is the mean cross-entropy of the chunk's logits, whose Hessian in the logits is
 * (diag(p) − p pᵀ)/n per sample.
 */
import * as tf from '@tensorflow/tfjs-core';
import { packed } from './convFilterGrad.ts';
import {
  backwardStage,
  forwardStage,
  rBackwardStage,
  rForwardStage,
  type Stage,
  type StageState,
  stageHasParams,
} from './stages.ts';

type Params = readonly tf.Tensor[];

export class LinearizedChunk {
  private readonly states: StageState[] = [];
  /** deltas[i] = ∂L/∂(output of stage i), for the stages from the first with parameters on. */
  private readonly deltas: tf.Tensor[] = [];
  private readonly probs: tf.Tensor2D;
  private readonly firstParam: number;
  private readonly kept: tf.Tensor[] = [];

  /** `reference`: the network's own forward logits on the same input, to check the stage chain. */
  constructor(
    private readonly stages: readonly Stage[],
    params: Params,
    x: tf.Tensor,
    oneHot: tf.Tensor2D,
    reference: (x: tf.Tensor) => tf.Tensor2D,
  ) {
    this.firstParam = stages.findIndex(stageHasParams);
    if (this.firstParam < 0) throw new Error('curvature network has no trainable stage');
    const keep = <T extends tf.Tensor>(t: T): T => {
      // The chunk's input belongs to the caller.
      if (t !== x && !this.kept.includes(t)) this.kept.push(tf.keep(t));
      return t;
    };
    const n = x.shape[0]!;
    this.probs = tf.tidy(() => {
      let a = x;
      for (const stage of stages) {
        const st = forwardStage(stage, a, params);
        this.states.push({
          input: keep(st.input),
          output: keep(st.output),
          aux: st.aux.map((t) => t && keep(t)),
        });
        a = st.output;
      }
      const logits = a as tf.Tensor2D;
      const expected = reference(x);
      const gap = tf.max(tf.abs(tf.sub(logits, expected))).dataSync()[0]!;
      const scale = 1 + tf.max(tf.abs(expected)).dataSync()[0]!;
      if (!(gap <= 1e-4 * scale)) {
        throw new Error(`curvature stages disagree with the network's forward pass (max |Δlogit| ${gap})`);
      }
      const probs = keep(tf.softmax(logits));
      // ∂L/∂z = (p − y)/n, then back down to the first stage with parameters.
      let d: tf.Tensor = keep(tf.div(tf.sub(probs, oneHot), n));
      this.deltas[stages.length - 1] = d;
      for (let i = stages.length - 1; i > this.firstParam; i--) {
        d = keep(backwardStage(stages[i]!, this.states[i]!, d, params));
        this.deltas[i - 1] = d;
      }
      // Stride-1 convs: ∂L/∂y packed once as the filter operand of Σ R{x} ⊗ ∂L/∂y.
      stages.forEach((stage, i) => {
        const st = this.states[i]!;
        if (stage.kind === 'conv2d' && i > this.firstParam && st.aux[0])
          st.aux[1] = keep(packed(this.deltas[i]!));
      });
      return probs;
    });
    this.releaseUnneeded();
  }

  /**
   * Drop what the directional passes never read (they use only shapes there): activations' and
   * BatchNorm's inputs (their derivatives are cached), max-pool masks and outputs where the routing
   * index exists. About halves the cache of a conv/ReLU/max-pool net.
   */
  private releaseUnneeded(): void {
    const needed = new Set<tf.Tensor>([...this.deltas.filter((d) => d !== undefined), this.probs]);
    this.stages.forEach((stage, i) => {
      const st = this.states[i]!;
      const routed = stage.kind === 'maxPool' && st.aux[1] !== undefined;
      const kind = stage.kind;
      if (kind === 'dense' || kind === 'conv2d' || kind === 'avgPool' || (kind === 'maxPool' && !routed))
        needed.add(st.input);
      if (kind === 'maxPool' && !routed) needed.add(st.output);
      st.aux.forEach((t, k) => {
        if (t && !(routed && k === 0)) needed.add(t);
      });
    });
    const released = this.kept.filter((t) => !needed.has(t));
    tf.dispose(released);
    this.kept.splice(0, this.kept.length, ...this.kept.filter((t) => needed.has(t)));
  }

  /** H·v of the chunk's mean loss, one tensor per parameter (call inside tf.tidy). */
  product(params: Params, v: Params): tf.Tensor[] {
    const stages = this.stages;
    const rInputs: (tf.Tensor | null)[] = [];
    let r: tf.Tensor | null = null;
    for (let i = 0; i < stages.length; i++) {
      rInputs.push(r);
      r = rForwardStage(stages[i]!, this.states[i]!, r, params, v);
    }
    const n = this.probs.shape[0];
    const hv: (tf.Tensor | undefined)[] = new Array(params.length);
    if (r !== null) {
      // R{∂L/∂z} = (p ⊙ Rz − p (pᵀRz)) / n.
      const pr = tf.mul(this.probs, r);
      let rd: tf.Tensor | null = tf.div(tf.sub(pr, tf.mul(this.probs, tf.sum(pr, 1, true))), n);
      for (let i = stages.length - 1; i >= this.firstParam && rd !== null; i--) {
        const needInput = i > this.firstParam;
        rd = rBackwardStage(
          stages[i]!,
          this.states[i]!,
          this.deltas[i]!,
          rd,
          rInputs[i] ?? null,
          params,
          v,
          hv,
          needInput,
        );
      }
    }
    return params.map((p, i) => hv[i] ?? tf.zerosLike(p));
  }

  dispose(): void {
    tf.dispose(this.kept);
    this.kept.length = 0;
  }
}
