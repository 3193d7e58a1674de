// Reading a Screener .safetensors file into checked values on the CPU, before any GPU buffer exists:
// the config (every field, validate-config.ts), then every tensor against what that config builds
// (names and shapes, tensor-manifest.ts), its dtype (weights are floating point: an integer dtype is
// a relabelled or foreign tensor, whose bytes would be read as nonsense) and its values (a NaN or an
// infinity would only surface as a map of NaNs after the last window).
import { DataError } from '../data/errors';
import { STAGES, withDensity, type AnomalyOptions, type ScreenerConfig, type Stage } from './config';
import { decodeSafetensors, encodeSafetensors, tensorToFloat32, type SafetensorsTensor, type TensorToWrite } from './safetensors';
import { tensorManifest } from './tensor-manifest';
import { validateConfig } from './validate-config';
import { counted } from '../data/counted';

/** Metadata "format" of a Screener model file. */
export const METADATA_FORMAT = 'screener';

const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

export interface ScreenerWeights {
  config: ScreenerConfig;
  /** Every tensor of the model, by name, as float32. */
  state: Map<string, Float32Array>;
  trainedStages: Set<Stage>;
}

/** The validated config in a model file's __metadata__; errors name `source`. */
export function configFromMetadata(metadata: Record<string, string>, source: string): ScreenerConfig {
  if (metadata.format !== METADATA_FORMAT || !metadata.config) {
    throw new DataError(source, 'not a Screener model: __metadata__ lacks format "screener" and a config');
  }
  let config: ScreenerConfig;
  try {
    config = JSON.parse(metadata.config) as ScreenerConfig;
  } catch (error) {
    throw new DataError(source, `the config in __metadata__ is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    return validateConfig(config, 'config');
  } catch (error) {
    throw new DataError(source, error instanceof Error ? error.message : String(error));
  }
}

/** A tensor's values as float32, refusing integer dtypes and non-finite values, naming the tensor. */
export function checkedFloat32(tensor: SafetensorsTensor, name: string, source: string): Float32Array {
  if (!FLOAT_DTYPES.includes(tensor.dtype)) {
    throw new DataError(source, `tensor "${name}" has dtype ${tensor.dtype}; weights are floating point (${FLOAT_DTYPES.join(', ')})`);
  }
  const values = tensorToFloat32(tensor, name, source);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad) throw new DataError(source, `tensor "${name}" has ${counted(bad, 'non-finite value')} (the first at index ${first}: ${values[first]}); the model is damaged`);
  return values;
}

/** The file's tensors, checked against the names and shapes `config` builds. */
export function checkedModelState(tensors: ReadonlyMap<string, SafetensorsTensor>, config: ScreenerConfig, source: string): Map<string, Float32Array> {
  const manifest = tensorManifest(config);
  const missing = [...manifest.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !manifest.has(k));
  if (missing.length || unexpected.length) {
    const few = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
    const parts = [missing.length ? `missing ${few(missing)}` : '', unexpected.length ? `unexpected ${few(unexpected)}` : ''];
    throw new DataError(source, `tensors do not match the config: ${parts.filter(Boolean).join('; ')}`);
  }
  const state = new Map<string, Float32Array>();
  for (const [name, shape] of manifest) {
    const tensor = tensors.get(name)!;
    if (tensor.shape.length !== shape.length || tensor.shape.some((n, i) => n !== shape[i])) {
      throw new DataError(source, `tensor "${name}" has shape [${tensor.shape.join(', ')}], the config makes it [${shape.join(', ')}]`);
    }
    state.set(name, checkedFloat32(tensor, name, source));
  }
  return state;
}

/** Everything a Screener needs from its file, checked; no GPU work. */
export function readScreenerWeights(bytes: Uint8Array, source: string): ScreenerWeights {
  const { metadata, tensors } = decodeSafetensors(bytes, source);
  const config = configFromMetadata(metadata, source);
  const state = checkedModelState(tensors, config, source);
  const trainedStages = new Set((metadata.trained_stages ?? '').split(',').filter((s): s is Stage => (STAGES as readonly string[]).includes(s)));
  return { config, state, trainedStages };
}

/**
 * A model file's bytes with other anomaly options in its config (validated), its tensors' values and
 * its other metadata unchanged (the tensors written as float32, as every model is), and that config.
 */
export function screenerFileWithAnomalyOptions(bytes: Uint8Array, options: AnomalyOptions, source: string): { bytes: Uint8Array; config: ScreenerConfig } {
  const { metadata, tensors } = decodeSafetensors(bytes, source);
  const config = configFromMetadata(metadata, source);
  const state = checkedModelState(tensors, config, source);
  const changed = withAnomalyOptions({ config, state, trainedStages: new Set() }, options, source).config;
  const entries = [...tensors].map(([name, t]): [string, TensorToWrite] => [name, { shape: t.shape, data: state.get(name)! }]);
  return { bytes: encodeSafetensors(entries, { ...metadata, config: JSON.stringify(changed) }), config: changed };
}

/**
 * The weights with their config's anomaly options replaced by those given (each unchanged when
 * undefined), checked at once, naming `source` (the model file): an option the model cannot take (a
 * latent energy or a reference for a knn or another density) fails before any scan is preprocessed.
 */
export function withAnomalyOptions(weights: ScreenerWeights, options: AnomalyOptions, source: string): ScreenerWeights {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as AnomalyOptions;
  return Object.keys(given).length === 0 ? weights : { ...weights, config: validateConfig(withDensity(weights.config, given), source) };
}
