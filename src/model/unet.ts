// The dense network shared by the descriptor and the condition model: a 3-D UNet (GroupNorm,
// LeakyReLU or SiLU, strided-convolution downsampling, x2 trilinear upsampling with concatenated skip
// connections) whose decoder levels are each projected by a 1x1x1 convolution to d channels and merged
// top-down (x2 trilinear upsampling and sum), giving one full-resolution d-channel feature map.
import type { Runtime } from '../gpu/runtime';
import { add, concat, Conv3d, deriveSeed, fx, GroupNorm, Module, type FusedExpr, type Tensor, upsample2x } from '../graph/index';
import { groupsFor, type ActivationKind, type Triple, type UNetConfig } from './config';

/** The block's activation as an expression of its input, for GroupNorm to apply in its own kernel. */
export function activationExpression(kind: ActivationKind): FusedExpr {
  return kind === 'silu' ? fx.silu(fx.input(0)) : fx.leakyRelu(fx.input(0), 0.01);
}

/** conv3d -> GroupNorm -> activation (the last two in one kernel). */
class ConvBlock extends Module {
  readonly conv: Conv3d;
  readonly norm: GroupNorm;

  constructor(
    runtime: Runtime,
    inChannels: number,
    outChannels: number,
    groups: number,
    activation: ActivationKind,
    seed: number,
    stride = 1,
  ) {
    super();
    // No bias: the GroupNorm right after it subtracts any per-channel constant anyway.
    this.conv = this.registerModule('conv', new Conv3d(runtime, inChannels, outChannels, 3, { stride, padding: 1, seed, bias: false }));
    this.norm = this.registerModule('norm', new GroupNorm(runtime, groups, outChannels, { activation: activationExpression(activation) }));
  }

  forward(x: Tensor): Tensor {
    return this.norm.forward(this.conv.forward(x));
  }
}

/** One encoder level: two conv blocks, the first strided (x2 down) below the finest level. */
class EncoderLevel extends Module {
  readonly first: ConvBlock;
  readonly second: ConvBlock;

  constructor(runtime: Runtime, inChannels: number, channels: number, config: UNetConfig, seed: number, downsample: boolean) {
    super();
    const g = groupsFor(config, channels);
    this.first = this.registerModule('0', new ConvBlock(runtime, inChannels, channels, g, config.activation, deriveSeed(seed, 0), downsample ? 2 : 1));
    this.second = this.registerModule('1', new ConvBlock(runtime, channels, channels, g, config.activation, deriveSeed(seed, 1)));
  }

  forward(x: Tensor): Tensor {
    return this.second.forward(this.first.forward(x));
  }
}

/**
 * One decoder level: the coarser decoder output, reduced to this level's channels by a 1x1x1 conv
 * (before upsampling, where it is 8x cheaper; the two commute since trilinear weights sum to 1),
 * upsampled x2, concatenated with the skip connection and fused by a conv block.
 */
class DecoderLevel extends Module {
  readonly reduce: Conv3d;
  readonly fuse: ConvBlock;

  constructor(runtime: Runtime, coarserChannels: number, channels: number, config: UNetConfig, seed: number) {
    super();
    // No bias: a constant offset here would only feed a convolution followed by GroupNorm.
    this.reduce = this.registerModule('reduce', new Conv3d(runtime, coarserChannels, channels, 1, { seed: deriveSeed(seed, 0), bias: false }));
    this.fuse = this.registerModule('fuse', new ConvBlock(runtime, 2 * channels, channels, groupsFor(config, channels), config.activation, deriveSeed(seed, 1)));
  }

  forward(coarser: Tensor, skip: Tensor): Tensor {
    return this.fuse.forward(concat([upsample2x(this.reduce.forward(coarser)), skip], 4));
  }
}

/** Holds a list of modules under "0", "1", ... (a ModuleList). */
class ModuleList<M extends Module> extends Module {
  readonly items: M[] = [];

  push(module: M): M {
    this.items.push(this.registerModule(String(this.items.length), module));
    return module;
  }
}

export class DenseUNet extends Module {
  readonly encoder = this.registerModule('encoder', new ModuleList<EncoderLevel>());
  readonly decoder = this.registerModule('decoder', new ModuleList<DecoderLevel>());
  /** heads.items[i]: level i's 1x1x1 projection to d channels. */
  readonly heads = this.registerModule('heads', new ModuleList<Conv3d>());

  constructor(
    runtime: Runtime,
    readonly config: UNetConfig,
    seed: number,
  ) {
    super();
    const c = config.channels;
    c.forEach((channels, i) => {
      this.encoder.push(new EncoderLevel(runtime, i === 0 ? config.inputChannels : c[i - 1]!, channels, config, deriveSeed(seed, 100 + i), i > 0));
      // The heads are summed, so one bias (the finest level's) is all the sum can use.
      this.heads.push(new Conv3d(runtime, channels, config.embedding, 1, { seed: deriveSeed(seed, 300 + i), bias: i === 0 }));
    });
    // decoder.items[i] produces level i (i < levels - 1) from level i + 1.
    for (let i = 0; i + 1 < c.length; i++) this.decoder.push(new DecoderLevel(runtime, c[i + 1]!, c[i]!, config, deriveSeed(seed, 200 + i)));
  }

  get levels(): number {
    return this.config.channels.length;
  }

  /** The factor every spatial extent of the input must be divisible by. */
  get sizeMultiple(): number {
    return 2 ** (this.levels - 1);
  }

  /** x [N, D, H, W, inputChannels] -> [N, D, H, W, d]. */
  forward(x: Tensor): Tensor {
    const [, D, H, W, C] = x.shape as number[];
    if (x.rank !== 5 || C !== this.config.inputChannels) {
      throw new RangeError(`DenseUNet: input [${x.shape.join(', ')}] must be [N, D, H, W, ${this.config.inputChannels}]`);
    }
    const m = this.sizeMultiple;
    if ([D!, H!, W!].some((s) => s % m !== 0)) throw new RangeError(`DenseUNet: spatial extents [${D}, ${H}, ${W}] must be divisible by ${m}`);
    const skips: Tensor[] = [];
    let h = x;
    for (const level of this.encoder.items) {
      h = level.forward(h);
      skips.push(h);
    }
    const decoded: Tensor[] = new Array(this.levels);
    decoded[this.levels - 1] = h;
    for (let i = this.levels - 2; i >= 0; i--) decoded[i] = this.decoder.items[i]!.forward(decoded[i + 1]!, skips[i]!);
    let merged = this.heads.items[this.levels - 1]!.forward(decoded[this.levels - 1]!);
    for (let i = this.levels - 2; i >= 0; i--) merged = add(upsample2x(merged), this.heads.items[i]!.forward(decoded[i]!));
    return merged;
  }

  /** Multiply-accumulates x2 of the convolutions for one input of spatial size `size` (forward only). */
  static convFlops(config: UNetConfig, size: Triple): number {
    const voxels = (level: number) => size.reduce((p, s) => p * (s / 2 ** level), 1);
    const c = config.channels;
    let flops = 0;
    const conv = (level: number, cin: number, cout: number, k: number) => (flops += 2 * voxels(level) * cin * cout * k ** 3);
    c.forEach((ch, i) => {
      conv(i, i === 0 ? config.inputChannels : c[i - 1]!, ch, 3);
      conv(i, ch, ch, 3);
      conv(i, ch, config.embedding, 1);
    });
    for (let i = 0; i + 1 < c.length; i++) {
      conv(i + 1, c[i + 1]!, c[i]!, 1);
      conv(i, 2 * c[i]!, c[i]!, 3);
    }
    return flops;
  }
}
