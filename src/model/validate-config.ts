// Checks a Screener config field by field before anything is built from it. A config comes from a
// file (a model's or a checkpoint's __metadata__) that may be old, hand-edited or damaged: every field
// must be present, of its type and in a range a network can be built and run with, and an error names
// the file and the field ("model.safetensors: train.cropSize[1] must be an integer from 1 to 512, got
// 0"), never a TypeError or a failed buffer allocation deep inside the GPU code.
import { CT_VOXEL_MM } from '../data/geometry/plausible-geometry';
import { NEAREST_ROW_MAX_COLS } from '../kernels/nearest-row';
import { ANOMALY_SCORES, KNN_REFERENCES, CONDITION_KINDS, DENSITY_KINDS, groupsFor, MAX_MAP_SMOOTHING_MM, PRESETS, SCAN_REFERENCE_ROWS, type ScreenerConfig } from './config';

class ConfigError extends Error {
  override name = 'ConfigError';
}

type Fields = Record<string, unknown>;

/** HU a window may reach: below air's -1024 to beyond dense bone and metal. */
export const HU_WINDOW_LIMITS: [number, number] = [-2000, 4000];

/** Descriptors a knn density's bank may hold: 2^20 of d = 32 is 128 MiB, already more than a browser tab holds comfortably. */
export const MAX_BANK_SIZE = 1 << 20;
/** The most scan cells a knn density's reference may take (density.referenceRows): held on the CPU and the GPU at once, as a bank is; the default takes this many. */
export const MAX_SCAN_REFERENCE_ROWS = SCAN_REFERENCE_ROWS;

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

function object(value: unknown, field: string): Fields {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${field} must be an object, got ${show(value)}`);
  return value as Fields;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new ConfigError(`${field} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value as number;
}

function number(value: unknown, field: string, min: number, max: number, openBelow = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (openBelow ? value > min : value >= min) && value <= max;
  if (!ok) throw new ConfigError(`${field} must be a number ${openBelow ? 'above' : 'from'} ${min} ${openBelow ? 'and at most' : 'to'} ${max}, got ${show(value)}`);
  return value as number;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const names = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed[0];
    throw new ConfigError(`${field} must be ${names}, got ${show(value)}`);
  }
  return value as T;
}

function list(value: unknown, field: string, minLength: number, maxLength: number): unknown[] {
  if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) {
    const size = minLength === maxLength ? `${minLength}` : `${minLength} to ${maxLength}`;
    throw new ConfigError(`${field} must be a list of ${size} values, got ${show(value)}`);
  }
  return value;
}

/** Limits generous for any model this project can train, tight enough to refuse absurd allocations. */
const MAX_CHANNELS = 4096;
const MAX_CROP = 512;
const MAX_LEVELS = 6;

function checkUNet(value: unknown, field: string, inputChannels: number): void {
  const n = object(value, field);
  const channels = list(n.channels, `${field}.channels`, 1, MAX_LEVELS).map((c, i) => integer(c, `${field}.channels[${i}]`, 1, MAX_CHANNELS));
  integer(n.groups, `${field}.groups`, 1, MAX_CHANNELS);
  for (const c of channels) {
    const g = groupsFor(n as never, c);
    if (c % g !== 0) throw new ConfigError(`${field}: ${c} channels do not split into ${g} groups`);
  }
  oneOf(n.activation, `${field}.activation`, ['leakyRelu', 'silu']);
  integer(n.embedding, `${field}.embedding`, 1, MAX_CHANNELS);
  if (n.inputChannels !== inputChannels) {
    throw new ConfigError(`${field}.inputChannels must be ${inputChannels}${inputChannels === 2 ? ' (image and mask)' : ''}, got ${show(n.inputChannels)}`);
  }
}

function checkOptim(value: unknown, field: string): void {
  const o = object(value, field);
  number(o.lr, `${field}.lr`, 0, 1, true);
  number(o.weightDecay, `${field}.weightDecay`, 0, 1);
  integer(o.warmupSteps, `${field}.warmupSteps`, 0, 10_000_000);
  number(o.clipNorm, `${field}.clipNorm`, 0, 1e6, true);
}

function triple(value: unknown, field: string, check: (v: unknown, f: string) => number): [number, number, number] {
  return list(value, field, 3, 3).map((v, i) => check(v, `${field}[${i}]`)) as [number, number, number];
}

function checkFields(config: Fields): void {
  if (config.format !== 'screener') throw new ConfigError(`format must be "screener", got ${show(config.format)}`);
  if (config.version !== 1) throw new ConfigError(`unsupported version ${show(config.version)} (this build reads version 1)`);
  oneOf(config.preset, 'preset', [...PRESETS, 'custom']);
  const [lo, hi] = CT_VOXEL_MM;
  const mm = (v: unknown, f: string) => number(v, f, lo, hi);
  triple(config.targetSpacing, 'targetSpacing', mm);
  if (config.huWindow !== undefined) {
    const [lo, hi] = list(config.huWindow, 'huWindow', 2, 2).map((v, i) => number(v, `huWindow[${i}]`, HU_WINDOW_LIMITS[0], HU_WINDOW_LIMITS[1]));
    if (!(lo! < hi!)) throw new ConfigError(`huWindow: the lower bound ${lo} HU is not below the upper ${hi} HU`);
  }
  checkUNet(config.descriptor, 'descriptor', 1);
  checkUNet(config.condition, 'condition', 2);

  const ssl = object(config.ssl, 'ssl');
  oneOf(ssl.loss, 'ssl.loss', ['vicreg', 'infonce']);
  list(ssl.projector, 'ssl.projector', 1, 8).forEach((w, i) => integer(w, `ssl.projector[${i}]`, 1, 65_536));
  integer(ssl.positions, 'ssl.positions', 2, 1_000_000);
  number(ssl.temperature, 'ssl.temperature', 0, 100, true);
  triple(ssl.vicregWeights, 'ssl.vicregWeights', (v, f) => number(v, f, 0, 1e6));
  if (ssl.colourStrength !== undefined) number(ssl.colourStrength, 'ssl.colourStrength', 0, 4);
  const range = list(ssl.spacingRange, 'ssl.spacingRange', 2, 2);
  const [rangeLo, rangeHi] = range.map((r, i) => triple(r, `ssl.spacingRange[${i}]`, mm));
  rangeLo!.forEach((s, a) => {
    if (s > rangeHi![a]!) throw new ConfigError(`ssl.spacingRange: the minimum ${s} mm exceeds the maximum ${rangeHi![a]} mm on axis ${a}`);
  });

  const masking = object(config.masking, 'masking');
  number(masking.probability, 'masking.probability', 0, 1);
  number(masking.ratio, 'masking.ratio', 0, 1);
  number(masking.blockFraction, 'masking.blockFraction', 0, 1, true);

  const density = object(config.density, 'density');
  const kind = oneOf(density.kind, 'density.kind', DENSITY_KINDS);
  const condition = oneOf(density.condition, 'density.condition', CONDITION_KINDS);
  const pool = triple(density.poolStride, 'density.poolStride', (v, f) => integer(v, f, 1, 16));
  number(density.noiseStd, 'density.noiseStd', 0, 10);
  integer(density.gaussianHidden, 'density.gaussianHidden', 1, MAX_CHANNELS);
  integer(density.flowBlocks, 'density.flowBlocks', 1, 64);
  integer(density.flowHidden, 'density.flowHidden', 1, MAX_CHANNELS);
  integer(density.sincosFrequencies, 'density.sincosFrequencies', 1, 32);
  if (density.score !== undefined) oneOf(density.score, 'density.score', ANOMALY_SCORES);
  if (density.smoothMm !== undefined) number(density.smoothMm, 'density.smoothMm', 0, MAX_MAP_SMOOTHING_MM);
  if (density.reference !== undefined) {
    oneOf(density.reference, 'density.reference', KNN_REFERENCES);
    if (kind !== 'knn') throw new ConfigError(`only a knn density compares descriptors with a reference: density.reference is for density.kind "knn", this one is "${kind}"`);
  }
  if (density.referenceRows !== undefined) {
    integer(density.referenceRows, 'density.referenceRows', 1, MAX_SCAN_REFERENCE_ROWS);
    if (kind !== 'knn') throw new ConfigError(`only a knn density compares descriptors with its scan: density.referenceRows is for density.kind "knn", this one is "${kind}"`);
  }
  if (kind === 'flow' && (config.descriptor as Fields).embedding === 1) throw new ConfigError('a flow density needs an embedding of at least 2 channels');
  if (density.bankSize !== undefined) integer(density.bankSize, 'density.bankSize', 1, MAX_BANK_SIZE);
  if (kind === 'knn') {
    // The bank holds descriptors alone: a condition would be trained and never used.
    if (condition !== 'none') throw new ConfigError(`a knn density is unconditioned: density.condition must be "none", got "${condition}"`);
    const embedding = (config.descriptor as Fields).embedding as number;
    if (embedding > NEAREST_ROW_MAX_COLS) throw new ConfigError(`a knn density searches descriptors of at most ${NEAREST_ROW_MAX_COLS} channels, this embedding has ${embedding}`);
    if (density.score === 'latent') throw new ConfigError('a knn density has no latent energy: its score is the distance to the nearest descriptor of its bank (density.score "nll" or absent)');
  }

  const train = object(config.train, 'train');
  const crop = triple(train.cropSize, 'train.cropSize', (v, f) => integer(v, f, 1, MAX_CROP));
  const levels = Math.max(...(['descriptor', 'condition'] as const).map((k) => ((config[k] as Fields).channels as number[]).length));
  const factor = 2 ** (levels - 1);
  if (!crop.every((s) => s % factor === 0)) throw new ConfigError(`train.cropSize [${crop.join(', ')}] must be divisible by ${factor} (2^(levels - 1))`);
  if (!crop.every((s, a) => s % pool[a]! === 0)) throw new ConfigError(`train.cropSize [${crop.join(', ')}] must be divisible by density.poolStride [${pool.join(', ')}]`);
  const steps = object(train.steps, 'train.steps');
  for (const stage of ['descriptor', 'condition', 'density']) integer(steps[stage], `train.steps.${stage}`, 1, 100_000_000);
  integer(train.batch, 'train.batch', 1, 256);
  checkOptim(train.ssl, 'train.ssl');
  checkOptim(train.density, 'train.density');
  integer(train.checkpointEvery, 'train.checkpointEvery', 1, 100_000_000);
}

/** Checks every field's presence, type and range; throws naming `source` and the field. */
export function validateConfig(config: ScreenerConfig, source = 'config'): ScreenerConfig {
  try {
    checkFields(object(config, 'the config'));
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`${source}: ${error.message}`);
    throw error;
  }
  return config;
}
