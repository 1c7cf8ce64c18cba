/**
 * The planned checkpoint as a safetensors file: fake-quantized float32 values ((code − zero point)·
 * scale per output channel, so at most 2^b distinct values per channel of a b-bit layer), pruned
 * weights exactly 0, every other tensor unchanged, and the plan JSON in
 * `__metadata__.weightlens_plan`. The same bytes in local mode (`plan --write`) and in the plan
 * workflow's activity (`plan --stack --write`).
 */
import { encodeSafetensors } from '../../zoo/checkpoint-writer.ts';
import { applyPlan, type CheckpointPlan } from './checkpoint.ts';

export async function plannedCheckpointBytes(result: CheckpointPlan, sourceUri: string): Promise<Uint8Array> {
  const tensors = await applyPlan(result);
  return encodeSafetensors(tensors, {
    ...result.keptMetadata,
    weightlens_plan: JSON.stringify(result.plan),
    weightlens_quantization: `fake-quantized float32: ${result.plan.scheme} per-output-channel uniform, (code - zero point) * scale`,
    weightlens_source: sourceUri,
  });
}
