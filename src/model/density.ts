// Density models of a descriptor map given a condition map, both average-pooled, per voxel:
//  - a diagonal Gaussian whose mean and log-variance come from 3x3x3 convolutions of the condition
//    (or, unconditioned, are learned constants);
//  - a conditional Glow (src/graph/flows), a flow per voxel whose ActNorms and couplings see the
//    condition (or an unconditional one).
// Both give the negative log-likelihood per voxel, the anomaly score, or its energy term alone (see
// AnomalyScore in config.ts).
//  - a bank of descriptors drawn from the training scans (kind 'knn', unconditioned): a voxel's score
//    is the Euclidean distance of its descriptor to the nearest one in the bank, the nearest-neighbour
//    estimate of how rare it is. Nothing is trained by gradient: the density stage fills the bank.
import type { Runtime } from '../gpu/runtime';
import { ConditionalGlow, Conv3d, deriveSeed, gatherRows, gaussianEnergy, gaussianNLL, leakyRelu, Module, nearestRows, reshape, slice, sqrt, square, sub, sum, type Tensor, zeros } from '../graph/index';
import { bankSizeOf, conditionChannels, type AnomalyScore, type ScreenerConfig } from './config';

export interface DensityModel extends Module {
  /** x [N, D, H, W, d], condition [N, D, H, W, c] (null when unconditioned) -> NLL [N, D, H, W] in nats. */
  nll(x: Tensor, condition: Tensor | null): Tensor;
  /** The anomaly score of each voxel, as nll's: the NLL itself or its energy term alone. */
  score(x: Tensor, condition: Tensor | null, kind: AnomalyScore): Tensor;
  /**
   * Flows initialise their ActNorms from the first batch they see; a fresh model about to be trained
   * asks for that, while a loaded or untrained-but-scored one must not change on its first input.
   */
  setDataInitialisation(on: boolean): void;
}

export class GaussianDensity extends Module implements DensityModel {
  /** Condition -> hidden -> (mean, log-variance), both 3x3x3 with zero padding; null when unconditioned. */
  readonly hidden: Conv3d | null;
  readonly out: Conv3d | null;
  /** [d] each, used when unconditioned. */
  readonly mean: Tensor | null;
  readonly logVariance: Tensor | null;

  constructor(
    runtime: Runtime,
    readonly channels: number,
    readonly conditionChannels: number,
    hiddenChannels: number,
    seed: number,
  ) {
    super();
    if (conditionChannels > 0) {
      this.hidden = this.registerModule('hidden', new Conv3d(runtime, conditionChannels, hiddenChannels, 3, { padding: 1, seed: deriveSeed(seed, 0) }));
      this.out = this.registerModule('out', new Conv3d(runtime, hiddenChannels, 2 * channels, 3, { padding: 1, seed: deriveSeed(seed, 1) }));
      this.mean = this.logVariance = null;
    } else {
      this.hidden = this.out = null;
      this.mean = this.registerParameter('mean', zeros(runtime, [channels]));
      this.logVariance = this.registerParameter('logVariance', zeros(runtime, [channels]));
    }
  }

  nll(x: Tensor, condition: Tensor | null): Tensor {
    return this.score(x, condition, 'nll');
  }

  score(x: Tensor, condition: Tensor | null, kind: AnomalyScore): Tensor {
    const { mean, logVariance } = this.gaussianOf(condition);
    return (kind === 'nll' ? gaussianNLL : gaussianEnergy)(x, mean, logVariance, 'sum');
  }

  /** The Gaussian's mean and log-variance: learned constants, or [..., d] maps of the condition. */
  private gaussianOf(condition: Tensor | null): { mean: Tensor; logVariance: Tensor } {
    if (!this.hidden || !this.out) return { mean: this.mean!, logVariance: this.logVariance! };
    if (!condition) throw new Error('GaussianDensity: this model is conditioned and needs a condition map');
    const h = this.out.forward(leakyRelu(this.hidden.forward(condition), 0.01));
    const lead = h.shape.slice(0, -1);
    const c = this.channels;
    // The first c output channels are the mean, the last c the log-variance.
    const flat = reshape(h, [-1, 2 * c]);
    return { mean: reshape(sliceColumns(flat, 0, c), [...lead, c]), logVariance: reshape(sliceColumns(flat, c, 2 * c), [...lead, c]) };
  }

  setDataInitialisation(): void {
    // Nothing is initialised from data.
  }
}

function sliceColumns(x: Tensor, from: number, to: number): Tensor {
  return slice(x, [0, from], [x.shape[0]!, to]);
}

export class FlowDensity extends Module implements DensityModel {
  readonly flow: ConditionalGlow;

  constructor(runtime: Runtime, channels: number, conditionChannels: number, blocks: number, hidden: number, seed: number) {
    super();
    this.flow = this.registerModule('flow', new ConditionalGlow(runtime, channels, { conditionChannels, blocks, hidden, seed }));
    this.setDataInitialisation(false);
  }

  nll(x: Tensor, condition: Tensor | null): Tensor {
    return this.flow.nll(x, condition ?? undefined);
  }

  score(x: Tensor, condition: Tensor | null, kind: AnomalyScore): Tensor {
    return kind === 'nll' ? this.nll(x, condition) : this.flow.energy(x, condition ?? undefined);
  }

  setDataInitialisation(on: boolean): void {
    for (const block of this.flow.blocks.items) block.actnorm.initialized = !on;
  }
}

export class KnnDensity extends Module implements DensityModel {
  /** [bankSize, d] descriptors; zeros until the density stage fills it. */
  readonly bank: Tensor;

  constructor(runtime: Runtime, readonly channels: number, readonly bankSize: number) {
    super();
    this.bank = this.registerBuffer('bank', zeros(runtime, [bankSize, channels]));
  }

  /** Not a likelihood: the distance to the nearest bank descriptor, what `score` gives. */
  nll(x: Tensor, condition: Tensor | null): Tensor {
    return this.score(x, condition, 'nll');
  }

  score(x: Tensor, condition: Tensor | null, kind: AnomalyScore): Tensor {
    if (condition) throw new Error('KnnDensity: a knn density is unconditioned and takes no condition map');
    if (kind !== 'nll') throw new Error('KnnDensity: a knn density has no latent energy; its score is the distance to the bank');
    const d = this.channels;
    if (x.shape[x.rank - 1] !== d) throw new RangeError(`KnnDensity: descriptors have ${x.shape[x.rank - 1]} channels, the bank ${d}`);
    const rows = reshape(x, [-1, d]);
    // The nearest bank row by index (no gradient), then the distance to it with differentiable ops.
    const nearest = gatherRows(this.bank, nearestRows(rows, this.bank));
    return reshape(sqrt(sum(square(sub(rows, nearest)), [1])), x.shape.slice(0, -1));
  }

  setDataInitialisation(): void {
    // The bank is filled by the density stage (ScreenerTrainer), not initialised from a batch.
  }
}

export function createDensity(runtime: Runtime, config: ScreenerConfig, seed: number): DensityModel {
  const d = config.descriptor.embedding;
  const c = conditionChannels(config);
  const o = config.density;
  switch (o.kind) {
    case 'gaussian':
      return new GaussianDensity(runtime, d, c, o.gaussianHidden, seed);
    case 'flow':
      return new FlowDensity(runtime, d, c, o.flowBlocks, o.flowHidden, seed);
    case 'knn':
      return new KnnDensity(runtime, d, bankSizeOf(config));
  }
}
