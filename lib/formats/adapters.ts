/**
 * PEFT LoRA adapters: `adapter_model.safetensors` (+ `adapter_config.json`) holding, per adapted
 * module, lora_A (r, in) and lora_B (out, r). The matrix that matters is the update
 * ΔW = scale·B·A with scale = lora_alpha / r (or lora_alpha / √r with use_rslora), as
 * WeightWatcher's `peft=True` analyzes it; each module is one `lora` row named by the module.
 */
import { BadInputError } from '../errors.ts';
import { isRecord, parseJson } from './checks.ts';
import type { MappedTensor, ObjectOpener, TensorInfo } from './types.ts';
import { dirname } from './uri.ts';

export const ADAPTER_CONFIG_NAME = 'adapter_config.json';

/** What adapter_config.json says about scaling (absent when the checkpoint has no config). */
export interface AdapterConfig {
  uri: string;
  r?: number;
  loraAlpha?: number;
  useRslora: boolean;
  /** Per-module overrides (PEFT's rank_pattern / alpha_pattern: key = module name suffix or regex). */
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
}

/** A LoRA module of a checkpoint: its factors as found (either may be missing in a bad adapter). */
export interface LoraModule {
  module: string;
  a?: TensorInfo;
  b?: TensorInfo;
}

const LORA_FACTOR = /^(.*)\.lora_([AB])(\.[^.]+)?\.weight$/;
const PEFT_PREFIX = /^base_model\.model\./;

/** The module and factor of a LoRA tensor name, or undefined for other tensors. */
export function loraFactorOf(name: string): { module: string; factor: 'A' | 'B' } | undefined {
  const match = LORA_FACTOR.exec(name);
  if (!match) return undefined;
  return { module: match[1]!.replace(PEFT_PREFIX, ''), factor: match[2] as 'A' | 'B' };
}

/**
 * Mapping of a checkpoint's LoRA factor tensors: each module becomes one `lora` layer at the
 * position of its first factor; the other factor is skipped as part of it. Other tensors map as given.
 */
export function mapLoraModules(mapped: MappedTensor[]): MappedTensor[] {
  const modules = new Map<string, LoraModule>();
  for (const m of mapped) {
    const factor = loraFactorOf(m.tensor.name);
    if (!factor) continue;
    const entry = modules.get(factor.module) ?? { module: factor.module };
    if (factor.factor === 'A') entry.a = m.tensor;
    else entry.b = m.tensor;
    modules.set(factor.module, entry);
  }
  if (modules.size === 0) return mapped;
  const placed = new Set<string>();
  return mapped.map((m) => {
    const factor = loraFactorOf(m.tensor.name);
    if (!factor) return m;
    if (placed.has(factor.module)) {
      return {
        tensor: m.tensor,
        layerType: 'skipped',
        analyzed: false,
        reason: `LoRA factor of ${factor.module} (analyzed as its ΔW = scale·B·A)`,
      };
    }
    placed.add(factor.module);
    return { tensor: m.tensor, layerType: 'lora', analyzed: true, lora: modules.get(factor.module)! };
  });
}

/** Shape [out, in] of a module's ΔW from whichever factors are present (for planning). */
export function loraShape(lora: LoraModule): number[] {
  const out = lora.b?.shape[0] ?? lora.a?.shape[1] ?? 0;
  const inner = lora.a?.shape[1] ?? lora.b?.shape[0] ?? 0;
  return [lora.b ? out : inner, lora.a ? inner : out];
}

/** Check the factors pair up: A (r, in), B (out, r). Throws BadInputError naming the module. */
export function checkLoraFactors(
  lora: LoraModule,
  file: string,
): { a: TensorInfo; b: TensorInfo; rank: number } {
  const context = { file, layer: lora.module };
  if (!lora.a) throw new BadInputError(`LoRA module ${lora.module} has lora_B but no lora_A`, context);
  if (!lora.b) throw new BadInputError(`LoRA module ${lora.module} has lora_A but no lora_B`, context);
  const [rankA, inDim] = lora.a.shape;
  const [outDim, rankB] = lora.b.shape;
  if (lora.a.shape.length !== 2 || lora.b.shape.length !== 2 || rankA !== rankB || !inDim || !outDim) {
    throw new BadInputError(
      `LoRA module ${lora.module}: lora_A [${lora.a.shape.join(', ')}] and lora_B [${lora.b.shape.join(', ')}] ` +
        'do not form B·A (expected A [r, in], B [out, r])',
      context,
    );
  }
  return { a: lora.a, b: lora.b, rank: rankA! };
}

function patternValue(pattern: Record<string, number>, module: string): number | undefined {
  for (const [key, value] of Object.entries(pattern)) {
    if (module === key || module.endsWith(`.${key}`)) return value;
    try {
      if (new RegExp(`^(.*\\.)?${key}$`).test(module)) return value;
    } catch {
      // Not a regex: only the suffix match applies.
    }
  }
  return undefined;
}

/**
 * The ΔW scale of `module` with factor rank `rank`: lora_alpha / r, or lora_alpha / √r with
 * use_rslora (per-module rank/alpha patterns applied). Throws BadInputError naming the module when
 * the config cannot give it (no config, no lora_alpha, a rank that disagrees with the factors).
 */
export function loraScale(
  config: AdapterConfig | undefined,
  module: string,
  rank: number,
  file: string,
): number {
  const context = { file, layer: module };
  if (!config) {
    throw new BadInputError(
      `LoRA module ${module}: unknown scaling (no ${ADAPTER_CONFIG_NAME} beside the weights)`,
      context,
    );
  }
  const r = patternValue(config.rankPattern, module) ?? config.r;
  const alpha = patternValue(config.alphaPattern, module) ?? config.loraAlpha;
  if (alpha === undefined || !Number.isFinite(alpha)) {
    throw new BadInputError(
      `LoRA module ${module}: unknown scaling (${config.uri} has no lora_alpha)`,
      context,
    );
  }
  if (r !== undefined && r !== rank) {
    throw new BadInputError(
      `LoRA module ${module}: factors have rank ${rank}, ${config.uri} says r = ${r}`,
      context,
    );
  }
  return config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function numberRecord(value: unknown): Record<string, number> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
}

/** adapter_config.json beside the checkpoint at `uri`, when there is one. */
export async function readAdapterConfig(
  uri: string,
  opener: ObjectOpener,
): Promise<AdapterConfig | undefined> {
  const dir = dirname(uri);
  const configUri = `${dir.endsWith('/') ? dir : `${dir}/`}${ADAPTER_CONFIG_NAME}`;
  if (!(await opener.exists(configUri))) return undefined;
  const reader = await opener.open(configUri, { within: dir });
  if (reader.size > 1 << 20)
    throw new BadInputError('adapter config is larger than 1 MiB', { file: configUri });
  const json = parseJson(new TextDecoder().decode(await reader.read(0, reader.size)), { file: configUri });
  if (!isRecord(json)) throw new BadInputError('adapter config is not a JSON object', { file: configUri });
  return {
    uri: configUri,
    r: numberOrUndefined(json.r),
    loraAlpha: numberOrUndefined(json.lora_alpha),
    useRslora: json.use_rslora === true,
    rankPattern: numberRecord(json.rank_pattern),
    alphaPattern: numberRecord(json.alpha_pattern),
  };
}
