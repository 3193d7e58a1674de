// Block masking for the condition model: with some probability, a fraction of a grid of blocks is
// zeroed, so the features of a masked voxel must come from its context (paper: p = 0.9, 60 % of blocks,
// blocks about a quarter of the crop side).
import type { Rng } from '../data/rng';
import type { Shape3 } from '../data/geometry/volume';

export interface BlockMaskOptions {
  probability: number;
  /** Fraction of the blocks that are masked. */
  ratio: number;
  /** Block size in voxels along (D, H, W). */
  blockSize: Shape3;
}

export function defaultBlockMask(cropSize: Shape3): BlockMaskOptions {
  return { probability: 0.9, ratio: 0.6, blockSize: cropSize.map((s) => Math.max(1, Math.round(s / 4))) as Shape3 };
}

/** A 0/1 mask over the crop (1 = masked), or undefined when this draw masks nothing. */
export function drawBlockMask(shape: Shape3, rng: Rng, options: BlockMaskOptions): Uint8Array | undefined {
  if (!rng.bool(options.probability)) return undefined;
  const [D, H, W] = shape;
  const [bd, bh, bw] = options.blockSize;
  const grid: Shape3 = [Math.ceil(D / bd), Math.ceil(H / bh), Math.ceil(W / bw)];
  const blocks = grid[0] * grid[1] * grid[2];
  const order = rng.shuffle(Array.from({ length: blocks }, (_, i) => i));
  const chosen = new Uint8Array(blocks);
  const count = Math.round(options.ratio * blocks);
  for (let k = 0; k < count; k++) chosen[order[k]!] = 1;
  const mask = new Uint8Array(D * H * W);
  let i = 0;
  for (let d = 0; d < D; d++) {
    const gd = Math.floor(d / bd) * grid[1];
    for (let h = 0; h < H; h++) {
      const gh = (gd + Math.floor(h / bh)) * grid[2];
      for (let w = 0; w < W; w++, i++) mask[i] = chosen[gh + Math.floor(w / bw)]!;
    }
  }
  return mask;
}

/** Zeroes the masked voxels of an image in place. */
export function applyBlockMask(image: Float32Array, mask: Uint8Array): void {
  for (let i = 0; i < image.length; i++) if (mask[i]) image[i] = 0;
}
