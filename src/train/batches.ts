// Turning scans into the CPU-side contents of one training step: crop pairs with matched voxel
// positions for the dense SSL stages (block-masked for the condition network), and plain windows at
// the preprocessed spacing for the density stage. Every draw comes from the step's own Rng, so a step
// is reproducible from (seed, stage, step) alone, which is what makes resume exact.
import type { Affine } from '../data/geometry/volume';
import { drawBlockMask, applyBlockMask } from './masking';
import type { Rng } from '../data/rng';
import { sampleCropPair } from './sampler';
import { scaledColourAugment } from './augment';
import type { ScreenerConfig, Triple } from '../model/config';
import type { TrainingScan } from './scans';

export interface SslBatch {
  /** [N, D, H, W, C] channels-last: crops 0..B-1 are the first views, B..2B-1 the second. */
  images: Float32Array;
  shape: [number, number, number, number, number];
  /** [B * n, 4] (crop, d, h, w) voxel coordinates of the sampled positions in the first and the second views. */
  coords: [Int32Array, Int32Array];
  /** Fraction of voxels masked (condition stage; 0 otherwise). */
  maskedFraction: number;
}

export interface DensityBatch {
  /** [N, D, H, W, 1] windows at the preprocessed spacing. */
  images: Float32Array;
  shape: [number, number, number, number, number];
  /** Per window: window voxel -> scan voxel index, and the scan's shape (for the sin-cos condition). */
  toScan: Affine[];
  scanShape: Triple[];
}

function checkScans(scans: readonly TrainingScan[]): void {
  if (scans.length === 0) throw new Error('training needs at least one scan');
}

/**
 * B crop pairs; with `masked`, each crop independently block-masked (paper: p = 0.9, 60 % of a block
 * grid, blocks a quarter of the crop side) and a second channel carrying the mask.
 */
export function sampleSslBatch(scans: readonly TrainingScan[], config: ScreenerConfig, rng: Rng, masked: boolean): SslBatch {
  checkScans(scans);
  const crop = config.train.cropSize;
  const B = config.train.batch;
  const n = config.ssl.positions;
  const channels = masked ? 2 : 1;
  const voxels = crop[0] * crop[1] * crop[2];
  const images = new Float32Array(2 * B * voxels * channels);
  const coords: [Int32Array, Int32Array] = [new Int32Array(B * n * 4), new Int32Array(B * n * 4)];
  const blockSize = crop.map((s) => Math.max(1, Math.round(s * config.masking.blockFraction))) as Triple;
  const colour = scaledColourAugment(config.ssl.colourStrength ?? 1);
  let maskedVoxels = 0;
  for (let b = 0; b < B; b++) {
    const scan = scans[rng.int(0, scans.length - 1)]!;
    const pair = sampleCropPair(scan, { cropSize: crop, spacingRange: config.ssl.spacingRange, positions: n, colour }, rng);
    for (let view = 0; view < 2; view++) {
      const c = pair.crops[view]!;
      const index = view * B + b;
      const mask = masked ? drawBlockMask(crop, rng, { probability: config.masking.probability, ratio: config.masking.ratio, blockSize }) : undefined;
      if (mask) applyBlockMask(c.image, mask);
      const base = index * voxels * channels;
      if (channels === 1) images.set(c.image, base);
      else {
        for (let i = 0; i < voxels; i++) {
          images[base + 2 * i] = c.image[i]!;
          images[base + 2 * i + 1] = mask ? mask[i]! : 0;
          if (mask?.[i]) maskedVoxels++;
        }
      }
      const p = pair.positions[view]!;
      const out = coords[view]!;
      for (let i = 0; i < n; i++) {
        const o = (b * n + i) * 4;
        out[o] = index;
        out[o + 1] = p[i * 3]!;
        out[o + 2] = p[i * 3 + 1]!;
        out[o + 3] = p[i * 3 + 2]!;
      }
    }
  }
  return { images, shape: [2 * B, crop[0], crop[1], crop[2], channels], coords, maskedFraction: maskedVoxels / (2 * B * voxels) };
}

/** 2B windows of the crop size at the scans' own spacing, without flips or colour changes (as predicted). */
export function sampleDensityBatch(scans: readonly TrainingScan[], config: ScreenerConfig, rng: Rng): DensityBatch {
  checkScans(scans);
  const crop = config.train.cropSize;
  const B = config.train.batch;
  const voxels = crop[0] * crop[1] * crop[2];
  const images = new Float32Array(2 * B * voxels);
  const toScan: Affine[] = [];
  const scanShape: Triple[] = [];
  for (let b = 0; b < B; b++) {
    const scan = scans[rng.int(0, scans.length - 1)]!;
    const pair = sampleCropPair(
      scan,
      { cropSize: crop, spacingRange: [scan.spacing, scan.spacing], positions: 0, flips: false, rot90: false, colour: false },
      rng,
    );
    for (const c of pair.crops) {
      images.set(c.image, toScan.length * voxels);
      toScan.push(c.toScan);
      scanShape.push([...scan.shape]);
    }
  }
  return { images, shape: [2 * B, crop[0], crop[1], crop[2], 1], toScan, scanShape };
}
