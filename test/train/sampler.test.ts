// The dense-SSL pair sampler: the sampled position pairs are the same physical point, each crop
// really shows the scan where its affine says, overlaps are in range, and masking/augmentation behave.
import { describe, expect, it } from 'vitest';
import { applyAffine, type Shape3, type Vec3 } from '../../src/data/geometry/volume';
import { augmentColour, DEFAULT_COLOUR_AUGMENT, scaledColourAugment } from '../../src/train/augment';
import { applyBlockMask, defaultBlockMask, drawBlockMask } from '../../src/train/masking';
import { resampleTrilinear } from '../../src/data/preprocess/resample';
import { Rng } from '../../src/data/rng';
import { sampleCropPair, type CropPairOptions } from '../../src/train/sampler';

function smoothScan(shape: Shape3, seed: number) {
  const rng = new Rng(seed);
  const coarse: Shape3 = [4, 4, 4];
  const field = Float32Array.from({ length: 64 }, () => rng.next());
  const data = resampleTrilinear(field, coarse, shape, { scale: shape.map((s, a) => (coarse[a]! - 1) / (s - 1)) as Vec3, offset: [0, 0, 0] });
  return { data, shape, spacing: [2.5, 1.5, 2] as Vec3 };
}

const scan = smoothScan([30, 40, 36], 1);

function options(overrides: Partial<CropPairOptions> = {}): CropPairOptions {
  return { cropSize: [12, 16, 16], spacingRange: [[2, 1, 1.5], [4, 3, 3.5]], positions: 64, colour: false, ...overrides };
}

describe('crop pair sampler', () => {
  it('samples position pairs that are the same physical point to within half a voxel', () => {
    for (let seed = 0; seed < 40; seed++) {
      const pair = sampleCropPair(scan, options(), new Rng(seed));
      const [a, b] = pair.crops;
      for (let i = 0; i < 64; i++) {
        const p1 = [0, 1, 2].map((k) => pair.positions[0][i * 3 + k]!);
        const p2 = [0, 1, 2].map((k) => pair.positions[1][i * 3 + k]!);
        p1.forEach((v, k) => expect(v >= 0 && v < a.shape[k]!).toBe(true));
        p2.forEach((v, k) => expect(v >= 0 && v < b.shape[k]!).toBe(true));
        const mm1 = applyAffine(a.toScan, p1).map((x, k) => x * scan.spacing[k]!);
        const mm2 = applyAffine(b.toScan, p2).map((x, k) => x * scan.spacing[k]!);
        // Crop 1 positions are voxel centres; crop 2's are the nearest centres to them.
        for (let k = 0; k < 3; k++) expect(Math.abs(mm1[k]! - mm2[k]!)).toBeLessThanOrEqual(0.5 * b.spacing[k]! + 1e-6);
      }
    }
  });

  it('draws flips and quarter turns, and every crop shows the scan where its affine says', () => {
    const turns = new Set<number>();
    const flips = new Set<string>();
    for (let seed = 0; seed < 24; seed++) {
      const pair = sampleCropPair(scan, options({ padValue: -5 }), new Rng(1000 + seed));
      for (const crop of pair.crops) {
        turns.add(crop.quarterTurns);
        flips.add(crop.flips.join());
        expect(crop.image.length).toBe(crop.shape[0] * crop.shape[1] * crop.shape[2]);
        const rng = new Rng(seed);
        for (let t = 0; t < 50; t++) {
          const v = [rng.int(0, crop.shape[0] - 1), rng.int(0, crop.shape[1] - 1), rng.int(0, crop.shape[2] - 1)];
          const q = applyAffine(crop.toScan, v);
          const value = crop.image[(v[0]! * crop.shape[1] + v[1]!) * crop.shape[2] + v[2]!]!;
          const inside = q.every((x, k) => x >= -0.5 && x <= scan.shape[k]! - 0.5);
          if (!inside) {
            expect(value).toBe(-5);
            continue;
          }
          const want = resampleTrilinear(scan.data, scan.shape, [1, 1, 1], { scale: [1, 1, 1], offset: q as Vec3 })[0]!;
          expect(value).toBeCloseTo(want, 5);
        }
      }
    }
    expect(turns).toEqual(new Set([0, 1, 2, 3]));
    expect(flips.size).toBeGreaterThan(4);
  });

  it('overlaps by 25-100 % of the smaller crop along each axis', () => {
    for (let seed = 0; seed < 40; seed++) {
      const pair = sampleCropPair(scan, options({ flips: false, rot90: false }), new Rng(seed));
      const [a, b] = pair.crops;
      for (let k = 0; k < 3; k++) {
        // Box of crop voxel edges in scan millimetres.
        const box = (crop: typeof a) => {
          const lo = applyAffine(crop.toScan, [-0.5, -0.5, -0.5])[k]! * scan.spacing[k]!;
          const hi = applyAffine(crop.toScan, crop.shape.map((s) => s - 0.5))[k]! * scan.spacing[k]!;
          return [lo, hi];
        };
        const [alo, ahi] = box(a);
        const [blo, bhi] = box(b);
        const overlap = Math.min(ahi!, bhi!) - Math.max(alo!, blo!);
        const smaller = Math.min(ahi! - alo!, bhi! - blo!);
        expect(overlap / smaller).toBeGreaterThanOrEqual(0.25 - 1e-9);
        expect(overlap / smaller).toBeLessThanOrEqual(1 + 1e-9);
      }
      // Spacings are drawn from the range, independently for each crop.
      for (const crop of pair.crops) crop.spacing.forEach((s, k) => expect(s >= [2, 1, 1.5][k]! && s <= [4, 3, 3.5][k]!).toBe(true));
    }
  });

  it('keeps odd quarter turns out when the axial plane is not square, and is deterministic', () => {
    for (let seed = 0; seed < 20; seed++) {
      const pair = sampleCropPair(scan, options({ cropSize: [8, 10, 14] }), new Rng(seed));
      for (const crop of pair.crops) {
        expect(crop.quarterTurns % 2).toBe(0);
        expect(crop.shape).toEqual([8, 10, 14]);
      }
    }
    const one = sampleCropPair(scan, options({ colour: DEFAULT_COLOUR_AUGMENT }), new Rng(77));
    const two = sampleCropPair(scan, options({ colour: DEFAULT_COLOUR_AUGMENT }), new Rng(77));
    expect(Array.from(one.crops[1].image)).toEqual(Array.from(two.crops[1].image));
    expect(Array.from(one.positions[1])).toEqual(Array.from(two.positions[1]));
  });
});

describe('colour augmentation and block masking', () => {
  it('applies each step with its probability and changes intensities only', () => {
    const counts = new Map<string, number>();
    const shape: Shape3 = [6, 6, 6];
    for (let seed = 0; seed < 200; seed++) {
      const image = smoothScan(shape, seed).data;
      const before = Float32Array.from(image);
      const steps = augmentColour(image, shape, new Rng(seed));
      for (const s of steps) counts.set(s === 'sharpen' ? 'blur' : s, (counts.get(s === 'sharpen' ? 'blur' : s) ?? 0) + 1);
      if (steps.length > 0) expect(Array.from(image)).not.toEqual(Array.from(before));
      expect(image.every(Number.isFinite)).toBe(true);
    }
    for (const step of ['blur', 'noise', 'brightness', 'contrast', 'gamma']) {
      expect(counts.get(step)! / 200).toBeGreaterThan(0.7);
      expect(counts.get(step)! / 200).toBeLessThan(0.9);
    }
  });

  it('scales every colour range about no change: the paper\'s at 1, none at 0, narrower in between', () => {
    expect(scaledColourAugment(1)).toEqual(DEFAULT_COLOUR_AUGMENT);
    expect(scaledColourAugment(0)).toBe(false);
    const weak = scaledColourAugment(0.3) as typeof DEFAULT_COLOUR_AUGMENT;
    expect(weak.brightness[0]).toBeCloseTo(-0.03, 12);
    expect(weak.brightness[1]).toBeCloseTo(0.03, 12);
    expect(weak.contrast[0]).toBeCloseTo(0.925, 12);
    expect(weak.contrast[1]).toBeCloseTo(1.075, 12);
    expect(weak.gamma[0]).toBeCloseTo(0.7 ** 0.3, 12);
    expect(weak.noiseStd[1]).toBeCloseTo(0.015, 12);
    expect(weak.probability).toBe(DEFAULT_COLOUR_AUGMENT.probability);
    // On a smooth image, the mean absolute change shrinks with the strength.
    const shape: Shape3 = [6, 6, 6];
    const change = (options: typeof DEFAULT_COLOUR_AUGMENT) => {
      let total = 0;
      for (let seed = 0; seed < 40; seed++) {
        const image = smoothScan(shape, seed).data;
        const before = Float32Array.from(image);
        augmentColour(image, shape, new Rng(seed), options);
        total += image.reduce((a, v, i) => a + Math.abs(v - before[i]!), 0);
      }
      return total;
    };
    expect(change(weak)).toBeLessThan(0.5 * change(DEFAULT_COLOUR_AUGMENT));
    expect(() => scaledColourAugment(-1)).toThrow(/strength/);
  });

  it('masks the requested share of blocks, with the requested probability', () => {
    const shape: Shape3 = [16, 16, 16];
    const options = defaultBlockMask(shape);
    expect(options).toEqual({ probability: 0.9, ratio: 0.6, blockSize: [4, 4, 4] });
    let applied = 0;
    for (let seed = 0; seed < 100; seed++) {
      const mask = drawBlockMask(shape, new Rng(seed), options);
      if (!mask) continue;
      applied++;
      const masked = mask.reduce((s, v) => s + v, 0);
      expect(masked).toBe(Math.round(0.6 * 64) * 64);
      // Whole blocks: every 4x4x4 block is all masked or all kept.
      let mixed = 0;
      for (let b = 0; b < 64; b++) {
        const [bd, bh, bw] = [Math.floor(b / 16), Math.floor(b / 4) % 4, b % 4];
        const first = mask[(bd * 4 * 16 + bh * 4) * 16 + bw * 4]!;
        for (let z = 0; z < 4; z++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) if (mask[((bd * 4 + z) * 16 + bh * 4 + y) * 16 + bw * 4 + x] !== first) mixed++;
      }
      expect(mixed).toBe(0);
      const image = new Float32Array(4096).fill(1);
      applyBlockMask(image, mask);
      expect(image.reduce((s, v) => s + v, 0)).toBe(4096 - masked);
    }
    expect(applied).toBeGreaterThan(80);
    expect(applied).toBeLessThan(98);
  });
});
