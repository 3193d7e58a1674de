// A small denoising task for end-to-end training tests: a two-level 3-D conv net with GroupNorm (or a
// one-level one) trained with AdamW to remove Gaussian noise from smooth synthetic volumes.
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { rng } from './reference';

export const SHAPE = [2, 8, 8, 8, 1];
/** For tests that need many steps, not a big volume. */
export const TINY_SHAPE = [1, 4, 4, 4, 1];

/** Smooth volumes: a few Gaussian blobs per sample, seeded. */
export function cleanVolumes(seed: number, shape: number[]): Float32Array {
  const [n, D, H, W] = shape as [number, number, number, number];
  const next = rng(seed);
  const out = new Float32Array(n * D * H * W);
  for (let s = 0; s < n; s++) {
    const blobs = Array.from({ length: 3 }, () => [next() * D, next() * H, next() * W, 1.5 + next() * 2, next() - 0.3]);
    for (let d = 0; d < D; d++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          let v = 0;
          for (const [bd, bh, bw, r, a] of blobs) v += a! * Math.exp(-((d - bd!) ** 2 + (h - bh!) ** 2 + (w - bw!) ** 2) / (2 * r! * r!));
          out[((s * D + d) * H + h) * W + w] = v;
        }
  }
  return out;
}

export class Denoiser extends g.Module {
  private readonly enc: g.Sequential;
  private readonly down: g.Sequential;
  private readonly up: g.Conv3d;
  private readonly head: g.Conv3d;

  constructor(rt: Runtime, seed: number) {
    super();
    this.enc = this.registerModule('enc', new g.Sequential(new g.Conv3d(rt, 1, 8, 3, { padding: 1, seed }), new g.GroupNorm(rt, 2, 8), new g.Activation('silu')));
    this.down = this.registerModule(
      'down',
      new g.Sequential(new g.Conv3d(rt, 8, 16, 3, { stride: 2, padding: 1, seed: seed + 1 }), new g.GroupNorm(rt, 4, 16), new g.Activation('silu')),
    );
    this.up = this.registerModule('up', new g.Conv3d(rt, 16, 8, 3, { padding: 1, seed: seed + 2 }));
    this.head = this.registerModule('head', new g.Conv3d(rt, 8, 1, 1, { seed: seed + 3 }));
  }

  forward(x: g.Tensor): g.Tensor {
    const skip = this.enc.forward(x);
    const coarse = this.down.forward(skip);
    const merged = g.silu(g.add(this.up.forward(g.upsample2x(coarse)), skip));
    return g.add(this.head.forward(merged), x); // predict the residual
  }
}

/** One level only: few kernels per step, for the long leak test (each kernel launch costs time on a CPU adapter). */
export const smallNet = (rt: Runtime): g.Layer =>
  new g.Sequential(new g.Conv3d(rt, 1, 4, 3, { padding: 1, seed: 5 }), new g.GroupNorm(rt, 2, 4), new g.Activation('silu'), new g.Conv3d(rt, 4, 1, 1, { seed: 6 }));

/**
 * Trains `steps` AdamW steps; returns the loss of every step, read at the end of each. With onStep
 * given, losses are not read (each read waits for the device) and the steps run back to back.
 */
export async function train(
  rt: Runtime,
  steps: number,
  shape = SHAPE,
  onStep?: (step: number) => void,
  makeNet: (rt: Runtime) => g.Layer = (r) => new Denoiser(r, 7),
): Promise<number[]> {
  const net = makeNet(rt);
  const optimiser = new g.AdamW(net.namedParameters(), { lr: 3e-3, weightDecay: 1e-4 });
  const clean = g.keep(g.fromArray(rt, cleanVolumes(3, shape), shape));
  const losses: number[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const loss = await g.tidyAsync(async () => {
        const noisy = g.add(clean, g.randomNormal(rt, shape, g.deriveSeed(11, step), 0, 0.3));
        const l = g.mean(g.square(g.sub(net.forward(noisy), clean)));
        optimiser.zeroGrad();
        g.backward(l);
        g.clipGradNorm(net.namedParameters(), 5);
        optimiser.step();
        return onStep ? NaN : l.item();
      });
      if (onStep) {
        rt.flush();
        onStep(step);
      } else losses.push(loss);
    }
  } finally {
    optimiser.dispose();
    net.dispose();
    clean.dispose();
  }
  return losses;
}

