// Screener: the descriptor network, the condition (the masking-invariant network, a sin-cos code of
// the position, or nothing) and the density model of pooled descriptors given pooled conditions. A
// window of a preprocessed scan goes in, the negative log-likelihood of every pooled voxel comes out:
// the anomaly score the predictor blends over sliding windows.
import type { Runtime } from '../gpu/runtime';
import { avgPool3d, concat, deriveSeed, fromArray, noGrad, reshape, type Tensor, tidy, zeros } from '../graph/index';
import { counted } from '../data/counted';
import { DataError } from '../data/errors';
import { scaleShiftAffine, type Affine } from '../data/geometry/volume';
import { anomalyScoreOf, conditionChannels, knnReferenceOf, configPreprocessing, mapSmoothingOf, scanReferenceRowsOf, STAGES, type ScreenerConfig, type Stage, type Triple } from './config';
import type { PreprocessOptions } from '../data/preprocess/preprocess';
import { validateConfig } from './validate-config';
import { configFromMetadata, METADATA_FORMAT, readScreenerWeights, type ScreenerWeights } from './weights';
import { createDensity, KnnDensity, type DensityModel } from './density';
import type { ScanReferenceModel } from './scan-reference';
import { sincosEncoding } from './positional';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from './safetensors';
import { DenseUNet } from './unet';

/** Where a window lies in its preprocessed scan (for the sin-cos condition). */
export interface PositionInScan {
  origin: [number, number, number];
  scanShape: [number, number, number];
}

export { METADATA_FORMAT };

export class Screener {
  readonly descriptor: DenseUNet;
  /** The masking-invariant condition network; null unless config.density.condition is 'masked'. */
  readonly conditionNet: DenseUNet | null;
  readonly density: DensityModel;
  /** Stages whose weights have been trained (recorded in the file). */
  trainedStages = new Set<Stage>();

  private constructor(
    readonly runtime: Runtime,
    readonly config: ScreenerConfig,
    seed: number,
  ) {
    validateConfig(config);
    this.descriptor = new DenseUNet(runtime, config.descriptor, deriveSeed(seed, 1));
    this.conditionNet = config.density.condition === 'masked' ? new DenseUNet(runtime, config.condition, deriveSeed(seed, 2)) : null;
    this.density = createDensity(runtime, config, deriveSeed(seed, 3));
  }

  static create(runtime: Runtime, config: ScreenerConfig, seed: number): Screener {
    return new Screener(runtime, structuredClone(config), seed);
  }

  /** Loads weights and config written by toSafetensors(); `source` names the file in errors. */
  static fromSafetensors(runtime: Runtime, bytes: Uint8Array, source: string): Screener {
    return Screener.fromWeights(runtime, readScreenerWeights(bytes, source), source);
  }

  /** A model from weights already read and checked on the CPU (weights.ts). */
  static fromWeights(runtime: Runtime, weights: ScreenerWeights, source: string): Screener {
    const model = new Screener(runtime, weights.config, 0);
    try {
      model.loadState(weights.state, source);
    } catch (error) {
      model.dispose();
      throw error;
    }
    model.trainedStages = new Set(weights.trainedStages);
    return model;
  }

  /** The preprocessing every scan this model reads must have had (configPreprocessing of its config). */
  get preprocess(): PreprocessOptions {
    return configPreprocessing(this.config);
  }

  /** The standard deviation in mm of the smoothing of its anomaly maps (0: none). */
  get mapSmoothingMm(): number {
    return mapSmoothingOf(this.config);
  }

  /** The window (D, H, W) predictions use: the training crop size. */
  get windowShape(): [number, number, number] {
    return [...this.config.train.cropSize];
  }

  get poolStride(): [number, number, number] {
    return [...this.config.density.poolStride];
  }

  /**
   * For a knn density compared with its own scan (density.reference 'scan' or 'both'), what prediction
   * needs for it (scan-reference.ts); null for every other model.
   */
  get scanReference(): ScanReferenceModel | null {
    const reference = knnReferenceOf(this.config);
    if (!(this.density instanceof KnnDensity) || reference === 'bank') return null;
    const density = this.density;
    return {
      reference,
      rows: scanReferenceRowsOf(this.config),
      poolStride: this.poolStride,
      pooledDescriptors: (image) => this.pooledMaps(image).descriptor,
      bankDistance: (descriptors) => density.score(descriptors, null, 'nll'),
    };
  }

  /** Every tensor of the model by dotted name: what the file holds. */
  namedTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const add = (prefix: string, state: Map<string, Tensor>) => {
      for (const [name, t] of state) out.set(`${prefix}.${name}`, t);
    };
    add('descriptor', this.descriptor.stateDict());
    if (this.conditionNet) add('condition', this.conditionNet.stateDict());
    add('density', this.density.stateDict());
    return out;
  }

  /** Copies values into the model's tensors; names and sizes must match exactly. */
  loadState(state: ReadonlyMap<string, ArrayLike<number>>, source: string): void {
    const own = this.namedTensors();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (missing.length || unexpected.length) {
      const parts = [missing.length ? `missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}` : '', unexpected.length ? `unexpected ${unexpected.slice(0, 5).join(', ')}` : ''];
      throw new DataError(source, `tensors do not match the config: ${parts.filter(Boolean).join('; ')}`);
    }
    for (const [name, target] of own) {
      const values = state.get(name)!;
      if (values.length !== target.size) throw new DataError(source, `tensor "${name}" has ${values.length} values, the model's [${target.shape.join(', ')}] holds ${target.size}`);
      target.runtime.write(target.buffer, values instanceof Float32Array ? values : Float32Array.from(values));
    }
  }

  /** Weights and config as one .safetensors file (the config as JSON under __metadata__.config). */
  async toSafetensors(extraMetadata: Record<string, string> = {}): Promise<Uint8Array> {
    const entries: [string, TensorToWrite][] = [];
    for (const [name, t] of this.namedTensors()) entries.push([name, { shape: t.shape, data: await t.read() }]);
    return encodeSafetensors(entries, {
      ...extraMetadata,
      format: METADATA_FORMAT,
      config: JSON.stringify(this.config),
      trained_stages: STAGES.filter((s) => this.trainedStages.has(s)).join(','),
    });
  }

  /** The condition network's input: the (masked) image and the mask, [N, D, H, W, 2]. */
  static conditionInput(image: Tensor, mask?: Tensor): Tensor {
    return concat([image, mask ?? zeros(image.runtime, image.shape)], 4);
  }

  /**
   * Pooled descriptor map [N, D', H', W', d] and pooled condition map [N, D', H', W', c] (null for no
   * condition) of a batch of windows. `toScan` (sin-cos only) maps window voxels of each window to
   * scan voxel indices, with the scan's shape.
   */
  pooledMaps(image: Tensor, sincos?: { toScan: Affine[]; scanShape: Triple[] }): { descriptor: Tensor; condition: Tensor | null } {
    const stride = this.poolStride;
    const descriptor = avgPool3d(this.descriptor.forward(image), stride);
    const grid = descriptor.shape.slice(1, 4) as Triple;
    let condition: Tensor | null = null;
    switch (this.config.density.condition) {
      case 'masked':
        condition = avgPool3d(this.conditionNet!.forward(Screener.conditionInput(image)), stride);
        break;
      case 'sincos': {
        if (!sincos || sincos.toScan.length !== image.shape[0]) {
          throw new Error('Screener: the sin-cos condition needs the position of every window in its scan');
        }
        const f = this.config.density.sincosFrequencies;
        const codes = sincos.toScan.map((affine, i) => sincosEncoding(grid, stride, affine, sincos.scanShape[i]!, f));
        const all = new Float32Array(codes.reduce((n, c) => n + c.length, 0));
        codes.reduce((o, c) => (all.set(c, o), o + c.length), 0);
        condition = fromArray(this.runtime, all, [image.shape[0]!, ...grid, conditionChannels(this.config)]);
        break;
      }
      case 'none':
        break;
    }
    return { descriptor, condition };
  }

  /**
   * Anomaly score (the NLL, or its energy: anomalyScoreOf) per pooled voxel of a batch of windows: image [N, D, H, W, 1] (preprocessed, in [0, 1]) gives
   * [N, D/pd, H/ph, W/pw, 1]. `positionInScan` says where each window lies (one position, or one per
   * window); only the sin-cos condition reads it. No gradient is recorded; the result belongs to the
   * caller's scope.
   */
  scoreWindow(image: Tensor, positionInScan?: PositionInScan | PositionInScan[]): Tensor {
    const [n, D, H, W, c] = image.shape as number[];
    const expected = this.windowShape;
    if (image.rank !== 5 || c !== 1 || D !== expected[0] || H !== expected[1] || W !== expected[2]) {
      throw new RangeError(`Screener.scoreWindow: image [${image.shape.join(', ')}] must be [N, ${expected.join(', ')}, 1]`);
    }
    const positions = positionInScan === undefined ? undefined : Array.isArray(positionInScan) ? positionInScan : [positionInScan];
    return noGrad(() =>
      tidy(() => {
        if (this.config.density.condition === 'sincos' && (!positions || positions.length !== n)) {
          throw new Error(`Screener.scoreWindow: the sin-cos condition needs positionInScan for each of its ${counted(n, 'window')}`);
        }
        const sincos = positions && { toScan: positions.map((p) => scaleShiftAffine([1, 1, 1], p.origin)), scanShape: positions.map((p) => p.scanShape) };
        const { descriptor, condition } = this.pooledMaps(image, sincos);
        const score = this.density.score(descriptor, condition, anomalyScoreOf(this.config));
        return reshape(score, [...score.shape, 1]);
      }),
    );
  }

  dispose(): void {
    this.descriptor.dispose();
    this.conditionNet?.dispose();
    this.density.dispose();
  }
}

/** The validated config of a Screener .safetensors file, without building its networks. */
export function screenerConfigOf(bytes: Uint8Array, source: string): ScreenerConfig {
  return configFromMetadata(decodeSafetensors(bytes, source).metadata, source);
}
