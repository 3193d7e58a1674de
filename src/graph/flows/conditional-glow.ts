// A conditional Glow for per-position densities p(x | condition): K blocks of (ActNorm modulated by
// the condition, invertible 1x1x1 convolution, affine coupling whose net sees the condition), on
// channels-last tensors, with a standard normal base distribution.
import type { Runtime } from '../../gpu/runtime';
import type { Tensor } from '../tensor';
import { add, affine, square, sub } from '../ops/elementwise';
import { deriveSeed, randomNormal } from '../ops/random';
import { sum } from '../ops/reduce';
import { Module } from '../nn/module';
import { ActNorm } from './actnorm';
import { AffineCoupling } from './affine-coupling';
import { checkInputs, type FlowLayer, type FlowOutput } from './flow';
import { InvertibleConv1x1 } from './invertible-conv';

export interface ConditionalGlowOptions {
  /** Channels of the condition; 0 for an unconditional Glow. */
  conditionChannels?: number;
  /** Number of (ActNorm, 1x1x1 convolution, coupling) blocks. */
  blocks?: number;
  /** Hidden width of each coupling's net. */
  hidden?: number;
  /** Modulate every ActNorm by the condition (as the paper does); true by default when conditioned. */
  conditionalActNorm?: boolean;
  seed?: number;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** One (ActNorm, 1x1x1 convolution, coupling) step; parameters named actnorm.*, invconv.*, coupling.*. */
export class GlowBlock extends Module implements FlowLayer {
  readonly actnorm: ActNorm;
  readonly invconv: InvertibleConv1x1;
  readonly coupling: AffineCoupling;

  constructor(runtime: Runtime, channels: number, conditionChannels: number, modulatedActNorm: boolean, hidden: number, seed: number) {
    super();
    this.actnorm = this.registerModule('actnorm', new ActNorm(runtime, channels, { conditionChannels: modulatedActNorm ? conditionChannels : 0 }));
    this.invconv = this.registerModule('invconv', new InvertibleConv1x1(runtime, channels, { seed: deriveSeed(seed, 0) }));
    this.coupling = this.registerModule('coupling', new AffineCoupling(runtime, channels, { conditionChannels, hidden, seed: deriveSeed(seed, 1) }));
  }

  private get steps(): [FlowLayer, boolean][] {
    return [
      [this.actnorm, this.actnorm.conditionScale !== null],
      [this.invconv, false],
      [this.coupling, this.coupling.conditionChannels > 0],
    ];
  }

  forward(x: Tensor, condition?: Tensor): FlowOutput {
    let y = x;
    let logdet: Tensor | undefined;
    for (const [layer, conditioned] of this.steps) {
      const out = layer.forward(y, conditioned ? condition : undefined);
      y = out.y;
      logdet = logdet ? add(logdet, out.logdet) : out.logdet;
    }
    return { y, logdet: logdet! };
  }

  inverse(y: Tensor, condition?: Tensor): Tensor {
    return this.steps.reduceRight((x, [layer, conditioned]) => layer.inverse(x, conditioned ? condition : undefined), y);
  }
}

/** Holds the blocks under the names 0, 1, ... (so parameters read blocks.0.actnorm.logScale). */
class BlockList extends Module {
  constructor(readonly items: GlowBlock[]) {
    super();
    items.forEach((block, i) => this.registerModule(String(i), block));
  }
}

export class ConditionalGlow extends Module implements FlowLayer {
  readonly blocks: BlockList;
  readonly conditionChannels: number;

  constructor(
    private readonly runtime: Runtime,
    readonly channels: number,
    options: ConditionalGlowOptions = {},
  ) {
    super();
    const { conditionChannels = 0, blocks = 4, hidden = 64, seed = 0 } = options;
    if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`ConditionalGlow: needs at least one block, got ${blocks}`);
    const modulated = conditionChannels > 0 && (options.conditionalActNorm ?? true);
    this.conditionChannels = conditionChannels;
    const list = Array.from({ length: blocks }, (_, k) => new GlowBlock(runtime, channels, conditionChannels, modulated, hidden, deriveSeed(seed, k)));
    this.blocks = this.registerModule('blocks', new BlockList(list));
  }

  /** Every layer in forward order, with its name (blocks.0.actnorm, blocks.0.invconv, ...). */
  get layers(): { name: string; layer: FlowLayer }[] {
    return this.blocks.items.flatMap((block, k) =>
      (['actnorm', 'invconv', 'coupling'] as const).map((part) => ({ name: `blocks.${k}.${part}`, layer: block[part] as FlowLayer })),
    );
  }

  /** x -> z, with logdet per position (shape x.shape[:-1]) summed over every layer. */
  forward(x: Tensor, condition?: Tensor): FlowOutput {
    checkInputs('ConditionalGlow', x, this.channels, condition, this.conditionChannels);
    let y = x;
    let logdet: Tensor | undefined;
    for (const block of this.blocks.items) {
      const out = block.forward(y, condition);
      y = out.y;
      logdet = logdet ? add(logdet, out.logdet) : out.logdet;
    }
    return { y, logdet: logdet! };
  }

  inverse(z: Tensor, condition?: Tensor): Tensor {
    checkInputs('ConditionalGlow.inverse', z, this.channels, condition, this.conditionChannels);
    return this.blocks.items.reduceRight((x, block) => block.inverse(x, condition), z);
  }

  /**
   * Negative log-likelihood per position, -(log N(z; 0, I) + logdet), in nats, shape x.shape[:-1]:
   * the anomaly score of a voxel, or (averaged) the training loss.
   */
  nll(x: Tensor, condition?: Tensor): Tensor {
    const { y: z, logdet } = this.forward(x, condition);
    const negLogBase = affine(sum(square(z), -1), 0.5, 0.5 * this.channels * LOG_2PI);
    return sub(negLogBase, logdet);
  }

  /**
   * The latent energy 0.5 |z|^2 per position, shape x.shape[:-1]: the NLL without the log-determinant
   * and the base's constant. Under the model it follows the same chi-square law at every position,
   * whatever the condition, while the NLL also carries how spread the density is there.
   */
  energy(x: Tensor, condition?: Tensor): Tensor {
    const { y: z } = this.forward(x, condition);
    return affine(sum(square(z), -1), 0.5, 0);
  }

  /** Samples x ~ p(x | condition) at every position of `positions` (the condition's leading axes). */
  sample(positions: readonly number[], seed: number, condition?: Tensor): Tensor {
    return this.inverse(randomNormal(this.runtime, [...positions, this.channels], seed), condition);
  }
}
