// Screener's configuration: the two dense networks, the SSL heads, the density model and the training
// schedule, as one JSON-serialisable object that travels inside every .safetensors file, plus the
// three presets (tiny for tests, small for this machine's software adapter, base for GPUs).
import { resolvePreprocessOptions, type PreprocessOptions } from '../data/preprocess/preprocess';
import type { Triple } from '../kernels/conv3d';

/** (D, H, W) extents, spacings and strides: the engine's one definition, for the model's users too. */
export type { Triple };

export type ActivationKind = 'leakyRelu' | 'silu';
export type SslLoss = 'vicreg' | 'infonce';
export type ConditionKind = 'none' | 'sincos' | 'masked';
export const CONDITION_KINDS: readonly ConditionKind[] = ['none', 'sincos', 'masked'];
/**
 * 'gaussian' and 'flow' are trained by gradient on the NLL; 'knn' is a bank of descriptors drawn from the
 * training scans, scoring a voxel by the distance of its descriptor to the nearest one (unconditioned).
 */
export type DensityKind = 'gaussian' | 'flow' | 'knn';
export const DENSITY_KINDS: readonly DensityKind[] = ['gaussian', 'flow', 'knn'];
/**
 * What a voxel's anomaly score is. 'nll': the negative log-likelihood of its descriptor given its
 * condition (the paper's). 'latent': the energy term alone, 0.5 |z|^2 of the flow's latent (half the
 * squared Mahalanobis distance for the Gaussian), without the log-determinant. The log-determinant
 * says how spread the density is at a voxel, so the NLL is high wherever descriptors vary much (tissue
 * borders) even when they are typical there; the energy follows one chi-square law at every voxel.
 */
export type AnomalyScore = 'nll' | 'latent';
export const ANOMALY_SCORES: readonly AnomalyScore[] = ['nll', 'latent'];
/**
 * What a 'knn' density compares a voxel's descriptor with. 'bank': the descriptors drawn from the
 * training scans (its bank). 'scan': the same scan's own descriptors at least SCAN_REFERENCE_APART_MM
 * away (src/model/scan-reference.ts): healthy tissue has its like elsewhere in the same body, in that
 * body's own contrast and texture, while a lesion is one of a kind. 'both': the nearer of the two.
 */
export type KnnReference = 'bank' | 'scan' | 'both';
export const KNN_REFERENCES: readonly KnnReference[] = ['bank', 'scan', 'both'];
export type Stage = 'descriptor' | 'condition' | 'density';
export const STAGES: readonly Stage[] = ['descriptor', 'condition', 'density'];
export type PresetName = 'tiny' | 'small' | 'base';
export const PRESETS: readonly PresetName[] = ['tiny', 'small', 'base'];
/** The preset `screener train` uses when none is named. */
export const DEFAULT_PRESET: PresetName = 'small';

/** A 3-D UNet whose decoder levels are projected to `embedding` channels and merged top-down. */
export interface UNetConfig {
  /** Channels per resolution level, finest first; level i has stride 2^i. */
  channels: number[];
  /** GroupNorm groups (capped at each level's channel count, which it must divide). */
  groups: number;
  activation: ActivationKind;
  /** d: channels of the output map. */
  embedding: number;
  /** 1 for the descriptor (the image); 2 for the condition network (masked image, mask). */
  inputChannels: number;
}

export interface SslConfig {
  loss: SslLoss;
  /** Projector MLP widths after the d input, e.g. [256, 256]; the paper's base uses 8192. */
  projector: number[];
  /** Voxel pairs sampled in the overlap of each crop pair. */
  positions: number;
  /** InfoNCE temperature (paper: 0.1). */
  temperature: number;
  /** VICReg weights (paper: 25, 25, 1). */
  vicregWeights: [number, number, number];
  /** Crop spacing range in mm, [min per axis, max per axis]. */
  spacingRange: [Triple, Triple];
  /**
   * Scale of the colour augmentations' ranges (1, or absent: the paper's; 0: none). Weaker jitter
   * leaves the descriptor more of a tissue's absolute intensity, which is what many lesions change.
   */
  colourStrength?: number;
}

export interface MaskingConfig {
  /** Probability that a crop is masked at all (paper: 0.9). */
  probability: number;
  /** Fraction of the block grid zeroed (paper: 0.6). */
  ratio: number;
  /** Block side as a fraction of the crop side (paper: about a quarter). */
  blockFraction: number;
}

export interface DensityConfig {
  kind: DensityKind;
  condition: ConditionKind;
  /** Average-pooling kernel and stride over (D, H, W) (paper: 3x3x2 at 96x96x64 crops). */
  poolStride: Triple;
  /** Gaussian noise added to the pooled maps in training (paper: 0.1). */
  noiseStd: number;
  /** Hidden channels of the Gaussian's 3x3x3 condition convs. */
  gaussianHidden: number;
  flowBlocks: number;
  flowHidden: number;
  /** Descriptors the 'knn' density keeps (absent: DEFAULT_BANK_SIZE); other kinds ignore it. */
  bankSize?: number;
  /** Frequencies per axis of the sin-cos positional condition (6 * frequencies channels). */
  sincosFrequencies: number;
  /** The anomaly score predictions give; absent: 'nll'. Training does not depend on it. */
  score?: AnomalyScore;
  /** What a 'knn' density compares descriptors with (absent: 'bank'). Training does not depend on it. */
  reference?: KnnReference;
  /**
   * The most of the scan's cells its reference takes when `reference` is 'scan' or 'both' (a draw when the
   * scan has more; absent: SCAN_REFERENCE_ROWS, every cell). The search takes time in proportion. Training does not depend on it.
   */
  referenceRows?: number;
  /**
   * Standard deviation in mm of a Gaussian that smooths the anomaly map (on the preprocessed grid,
   * inside the body); absent or 0: none. Training does not depend on it. A lesion is a blob of many
   * voxels, while much of the map's noise is a voxel or two wide (tissue borders, single windows).
   */
  smoothMm?: number;
}

export interface OptimConfig {
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  /** Gradient-norm clipping threshold. */
  clipNorm: number;
}

export interface TrainConfig {
  /** Crop (and prediction window) size (D, H, W); divisible by 2^(levels - 1) and by the pool stride. */
  cropSize: Triple;
  /** Default number of steps per stage. */
  steps: Record<Stage, number>;
  /** Crop pairs (SSL) or crops (density) per step. */
  batch: number;
  ssl: OptimConfig;
  density: OptimConfig;
  checkpointEvery: number;
}

export interface ScreenerConfig {
  format: 'screener';
  version: 1;
  preset: PresetName | 'custom';
  /** The voxel size scans are preprocessed to for this model, in training and in prediction alike. */
  targetSpacing: Triple;
  /**
   * The HU window scans are clipped to and rescaled from before CLAHE; absent: the paper's [-1000, 300].
   * A narrower one (soft tissue: [-200, 300]) gives the small HU differences within soft tissue more of [0, 1].
   */
  huWindow?: [number, number];
  descriptor: UNetConfig;
  condition: UNetConfig;
  ssl: SslConfig;
  masking: MaskingConfig;
  density: DensityConfig;
  train: TrainConfig;
}

function unet(channels: number[], embedding: number, groups: number, inputChannels: number): UNetConfig {
  return { channels, groups, activation: 'leakyRelu', embedding, inputChannels };
}

const PAPER_MASKING: MaskingConfig = { probability: 0.9, ratio: 0.6, blockFraction: 0.25 };

/**
 * tiny: a training step in seconds on a software adapter, for tests.
 * small: the default, sized for a 2-core machine's software adapter (measured there: an SSL step of
 *   two 32^3 crops takes about 1.1 s, a flow density step about 1.4 s; bench/RESULTS.md, train). 32^3 crops at
 *   2.5 mm cover 8 cm, enough to see an organ and its neighbourhood; the pool stride 2x2x2 gives a
 *   16^3 grid of density positions per crop (the paper's 3x3x2 does not divide 32, leaving partial
 *   windows that average pooling drops, and its 3x coarser in-plane grid would blur small lesions
 *   into their neighbourhood). Projector and flow widths are small because their matmuls, not the
 *   convolutions, dominate a density step on a CPU.
 * base: the paper's scale (d = 32, 96x96x64 crops, projector 8192, pool 3x3x2), for GPUs.
 */
export function presetConfig(name: PresetName): ScreenerConfig {
  const common = {
    format: 'screener' as const,
    version: 1 as const,
    preset: name,
    targetSpacing: [2.5, 2.5, 2.5] as Triple,
    masking: { ...PAPER_MASKING },
  };
  const spacingRange: [Triple, Triple] = [
    [2.0, 2.0, 2.0],
    [3.5, 3.5, 3.5],
  ];
  const optim = (lr: number, warmupSteps: number): OptimConfig => ({ lr, weightDecay: 1e-4, warmupSteps, clipNorm: 1 });
  switch (name) {
    case 'tiny':
      return {
        ...common,
        descriptor: unet([4, 8], 8, 2, 1),
        condition: unet([4, 8], 8, 2, 2),
        ssl: { loss: 'vicreg', projector: [32, 32], positions: 32, temperature: 0.1, vicregWeights: [25, 25, 1], spacingRange },
        density: { kind: 'gaussian', condition: 'masked', poolStride: [2, 2, 2], noiseStd: 0.1, gaussianHidden: 8, flowBlocks: 2, flowHidden: 16, sincosFrequencies: 2 },
        train: { cropSize: [16, 16, 16], steps: { descriptor: 20, condition: 20, density: 20 }, batch: 1, ssl: optim(3e-3, 2), density: optim(3e-3, 2), checkpointEvery: 10 },
      };
    case 'small':
      return {
        ...common,
        descriptor: unet([8, 16, 32], 16, 4, 1),
        condition: unet([8, 16, 32], 16, 4, 2),
        ssl: { loss: 'vicreg', projector: [128, 128], positions: 256, temperature: 0.1, vicregWeights: [25, 25, 1], spacingRange },
        density: { kind: 'flow', condition: 'masked', poolStride: [2, 2, 2], noiseStd: 0.1, gaussianHidden: 32, flowBlocks: 4, flowHidden: 32, sincosFrequencies: 4 },
        train: { cropSize: [32, 32, 32], steps: { descriptor: 250, condition: 150, density: 200 }, batch: 1, ssl: optim(2e-3, 20), density: optim(1e-3, 20), checkpointEvery: 25 },
      };
    case 'base':
      return {
        ...common,
        descriptor: unet([32, 64, 128, 256], 32, 8, 1),
        condition: unet([32, 64, 128, 256], 32, 8, 2),
        ssl: { loss: 'vicreg', projector: [8192, 8192], positions: 1024, temperature: 0.1, vicregWeights: [25, 25, 1], spacingRange: [[1.0, 1.0, 1.5], [2.5, 2.5, 3.5]] },
        density: { kind: 'flow', condition: 'masked', poolStride: [3, 3, 2], noiseStd: 0.1, gaussianHidden: 128, flowBlocks: 8, flowHidden: 256, sincosFrequencies: 8 },
        train: { cropSize: [96, 96, 64], steps: { descriptor: 100_000, condition: 100_000, density: 50_000 }, batch: 4, ssl: optim(3e-4, 1000), density: optim(3e-4, 1000), checkpointEvery: 1000 },
      };
    default:
      throw new RangeError(`unknown preset "${name as string}"; known: ${PRESETS.join(', ')}`);
  }
}

export function isPresetName(name: string): name is PresetName {
  return (PRESETS as readonly string[]).includes(name);
}

/** The GroupNorm groups actually used at a level of `channels` channels. */
export function groupsFor(config: UNetConfig, channels: number): number {
  return Math.min(config.groups, channels);
}

/**
 * The preprocessing a model of this config expects: its voxel size and HU window (the paper's unless
 * the config names one), and the paper's body crop and CLAHE. Training, prediction, evaluation and the baseline beside a model all take it from
 * here, never beside the model.
 */
export function configPreprocessing(config: ScreenerConfig): PreprocessOptions {
  return resolvePreprocessOptions({ targetSpacing: [...config.targetSpacing], ...(config.huWindow ? { huWindow: [...config.huWindow] } : {}) });
}

/** A deep copy that preprocesses scans with the HU window [lo, hi] instead of the paper's. */
export function withHuWindow(config: ScreenerConfig, window: [number, number]): ScreenerConfig {
  const copy = structuredClone(config);
  copy.huWindow = [window[0], window[1]];
  return copy;
}

/** How a model's anomaly map is made from its density, beside the weights: options a caller may replace. */
export type AnomalyOptions = Pick<DensityConfig, 'score' | 'smoothMm' | 'reference' | 'referenceRows'>;

/** The largest smoothing of the anomaly map a config may ask for, in mm. */
export const MAX_MAP_SMOOTHING_MM = 100;

/** The standard deviation in mm of the anomaly map's smoothing (density.smoothMm, or 0: none). */
export function mapSmoothingOf(config: ScreenerConfig): number {
  return config.density.smoothMm ?? 0;
}

/** Descriptors a 'knn' density keeps when the config does not say. */
export const DEFAULT_BANK_SIZE = 4096;

/** The number of descriptors in a 'knn' density's bank. */
export function bankSizeOf(config: ScreenerConfig): number {
  return config.density.bankSize ?? DEFAULT_BANK_SIZE;
}

/**
 * The most of the scan's cells a knn density's reference takes when its reference is 'scan' or 'both'
 * and the config does not say: 2^20, more cells than a scan holds at the recipe's grids (a quality
 * phantom has about 32 000 wholly in its body), so every cell is compared with all the others. More of
 * the body's own tissue gives healthy cells nearer matches while a lesion stays one of a kind
 * (bench/RESULTS.md, "The scan reference's two constants" and "The scan's cells described once"); the
 * search takes time in proportion to cells x reference rows.
 */
export const SCAN_REFERENCE_ROWS = 1 << 20;

/** The most of the scan's own cells a 'knn' density compares with (density.referenceRows, or SCAN_REFERENCE_ROWS). */
export function scanReferenceRowsOf(config: ScreenerConfig): number {
  return config.density.referenceRows ?? SCAN_REFERENCE_ROWS;
}

/** The anomaly score a model of this config gives (its density.score, or the NLL). */
export function anomalyScoreOf(config: ScreenerConfig): AnomalyScore {
  return config.density.score ?? 'nll';
}

/** What this config's knn density compares descriptors with (density.reference, or its bank). */
export function knnReferenceOf(config: ScreenerConfig): KnnReference {
  return config.density.reference ?? 'bank';
}

/** How this config's maps are made (its score, smoothing, knn reference and the scan reference's size), as the map file's header names them. */
export function anomalyOptionsOf(config: ScreenerConfig): Required<AnomalyOptions> {
  return { score: anomalyScoreOf(config), smoothMm: mapSmoothingOf(config), reference: knnReferenceOf(config), referenceRows: scanReferenceRowsOf(config) };
}

/** A deep copy with `density` options replaced (for the ablation's condition and density kinds). */
export function withDensity(config: ScreenerConfig, density: Partial<DensityConfig>): ScreenerConfig {
  const copy = structuredClone(config);
  copy.density = { ...copy.density, ...density };
  return copy;
}

/**
 * A deep copy trained and run at `mm` voxels. The SSL crops' spacing range scales with it, so that the
 * crops bracket the spacing the density model and prediction see, as the preset's range brackets its
 * own target (a 4 mm model whose descriptor only ever saw 2-3.5 mm crops would meet a scale at
 * inference that it never trained on).
 */
export function withTargetSpacing(config: ScreenerConfig, mm: number): ScreenerConfig {
  const copy = structuredClone(config);
  const [lo, hi] = copy.ssl.spacingRange;
  const scaled = (range: Triple): Triple => range.map((s, a) => (s * mm) / config.targetSpacing[a]!) as Triple;
  copy.ssl.spacingRange = [scaled(lo), scaled(hi)];
  copy.targetSpacing = [mm, mm, mm];
  return copy;
}

/** Channels of the density model's condition input. */
export function conditionChannels(config: ScreenerConfig): number {
  switch (config.density.condition) {
    case 'none':
      return 0;
    case 'sincos':
      return 6 * config.density.sincosFrequencies;
    case 'masked':
      return config.condition.embedding;
  }
}
