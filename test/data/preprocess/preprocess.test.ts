// Preprocessing against plain float64 references: resampling, windowing, CLAHE (written out the
// long way, as scikit-image's equalize_adapthist does it), the body crop and the inverse mapping.
import { describe, expect, it } from 'vitest';
import { affineFromRows, applyAffine, type Shape3, type Vec3 } from '../../../src/data/geometry/volume';
import { bodyMask, largestComponent } from '../../../src/data/preprocess/body';
import { clahe3d, clipHistogram } from '../../../src/data/preprocess/clahe';
import { preprocessCt, toOriginalGrid } from '../../../src/data/preprocess/preprocess';
import { resampleNearest, resampleTrilinear, sameExtentMap, type GridMap } from '../../../src/data/preprocess/resample';
import { Rng } from '../../../src/data/rng';
import { windowToUnit } from '../../../src/data/preprocess/window';

function randomImage(shape: Shape3, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => rng.next());
}

/** Trilinear interpolation at one continuous index, clamped to the grid: the textbook formula. */
function trilinearReference(data: ArrayLike<number>, shape: Shape3, p: number[]): number {
  const c = p.map((x, a) => Math.min(Math.max(x, 0), shape[a]! - 1));
  const f = c.map(Math.floor);
  let sum = 0;
  for (let corner = 0; corner < 8; corner++) {
    let weight = 1;
    const idx = [0, 1, 2].map((a) => {
      const up = (corner >> a) & 1;
      const t = c[a]! - f[a]!;
      weight *= up ? t : 1 - t;
      return Math.min(f[a]! + up, shape[a]! - 1);
    });
    sum += weight * data[(idx[0]! * shape[1] + idx[1]!) * shape[2] + idx[2]!]!;
  }
  return sum;
}

describe('resampling', () => {
  it('matches the float64 trilinear reference for random grid maps', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 5; trial++) {
      const shape: Shape3 = [rng.int(2, 9), rng.int(2, 9), rng.int(2, 9)];
      const out: Shape3 = [rng.int(1, 11), rng.int(1, 11), rng.int(1, 11)];
      const map: GridMap = { scale: [rng.uniform(0.2, 2), rng.uniform(0.2, 2), rng.uniform(0.2, 2)], offset: [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2)] };
      const data = randomImage(shape, trial);
      const got = resampleTrilinear(data, shape, out, map);
      let i = 0;
      for (let d = 0; d < out[0]; d++)
        for (let h = 0; h < out[1]; h++)
          for (let w = 0; w < out[2]; w++, i++) {
            const p = [d, h, w].map((x, a) => map.scale[a]! * x + map.offset[a]!);
            expect(Math.abs(got[i]! - trilinearReference(data, shape, p))).toBeLessThan(1e-5);
          }
    }
  });

  it('keeps the extent when changing spacing, and nearest keeps labels', () => {
    const map = sameExtentMap([10, 10, 10], [5, 20, 10]);
    expect(map.scale).toEqual([2, 0.5, 1]);
    expect(map.offset).toEqual([0.5, -0.25, 0]);
    const labels = Uint8Array.from({ length: 27 }, (_, i) => i % 4);
    const same = resampleNearest(labels, [3, 3, 3], [3, 3, 3], { scale: [1, 1, 1], offset: [0, 0, 0] });
    expect(Array.from(same)).toEqual(Array.from(labels));
    const up = resampleNearest(labels, [3, 3, 3], [6, 6, 6], sameExtentMap([3, 3, 3], [6, 6, 6]));
    expect(new Set(up)).toEqual(new Set(labels));
    expect(up).toBeInstanceOf(Uint8Array);
  });
});

describe('windowing', () => {
  it('clips to [-1000, 300] HU and rescales to [0, 1]', () => {
    const hu = [-3000, -1000, -350, 0, 300, 2000];
    const got = windowToUnit(hu);
    hu.forEach((v, i) => expect(got[i]).toBeCloseTo(Math.min(Math.max((v + 1000) / 1300, 0), 1), 6));
  });
});

// ---- CLAHE reference: skimage's algorithm, explicit padding and loops, float64 throughout ----

function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function reflect(x: number, n: number): number {
  // numpy 'reflect': ... 2 1 | 0 1 2 ... n-1 | n-2 ...
  while (x < 0 || x >= n) x = x < 0 ? -x : 2 * (n - 1) - x;
  return x;
}

function clipHistogramReference(hist: number[], clip: number): number[] {
  const h = [...hist];
  let excess = h.filter((v) => v > clip).reduce((s, v) => s + v - clip, 0);
  for (let i = 0; i < h.length; i++) if (h[i]! > clip) h[i] = clip;
  const incr = Math.floor(excess / h.length);
  const upper = clip - incr;
  const low = h.map((v) => v < upper);
  low.forEach((l, i) => l && ((h[i]! += incr), (excess -= incr)));
  const mid = h.map((v) => v >= upper && v < clip);
  mid.forEach((m, i) => m && ((excess += h[i]! - clip), (h[i] = clip)));
  while (excess > 0) {
    const prev = excess;
    for (let index = 0; index < h.length; index++) {
      const under = h.map((v) => v < clip);
      const step = Math.max(1, Math.floor(under.filter(Boolean).length / excess));
      for (let i = index; i < h.length; i += step) if (under[i]) (h[i]! += 1), excess--;
      if (excess <= 0) break;
    }
    if (prev === excess) break;
  }
  return h;
}

function claheReference(image: Float32Array, shape: Shape3, kernel: Vec3, clipLimit: number, nbins: number): Float64Array {
  const levels = 16384;
  const u = Array.from(image, (x) => rint(x * 65535));
  const lo = Math.min(...u);
  const hi = Math.max(...u);
  const grey = u.map((x) => rint(((x - lo) / (hi - lo)) * (levels - 1)));
  const binSize = 1 + Math.floor(levels / nbins);
  const padStart = kernel.map((k) => Math.floor(k / 2));
  const padEnd = kernel.map((k, a) => ((k - (shape[a]! % k)) % k) + Math.ceil(k / 2));
  const padded = shape.map((s, a) => s + padStart[a]! + padEnd[a]!);
  const at = (p: number[]) => {
    const o = p.map((x, a) => reflect(x - padStart[a]!, shape[a]!));
    return Math.floor(grey[(o[0]! * shape[1] + o[1]!) * shape[2] + o[2]!]! / binSize);
  };
  const nHist = padded.map((s, a) => s / kernel[a]! - 1);
  const nVox = kernel[0] * kernel[1] * kernel[2];
  const clim = Math.max(1, Math.floor(clipLimit * nVox));
  const maps: number[][][][] = [];
  for (let a = 0; a < nHist[0]!; a++) {
    maps.push([]);
    for (let b = 0; b < nHist[1]!; b++) {
      maps[a]!.push([]);
      for (let c = 0; c < nHist[2]!; c++) {
        const hist = new Array(nbins).fill(0);
        for (let z = 0; z < kernel[0]; z++)
          for (let y = 0; y < kernel[1]; y++)
            for (let x = 0; x < kernel[2]; x++) hist[at([padStart[0]! + a * kernel[0] + z, padStart[1]! + b * kernel[1] + y, padStart[2]! + c * kernel[2] + x])]++;
        const clipped = clipHistogramReference(hist, clim);
        let cum = 0;
        maps[a]![b]!.push(clipped.map((v) => ((cum += v), Math.trunc(Math.min(cum * ((levels - 1) / nVox), levels - 1)))));
      }
    }
  }
  // Map array padded by one region on each side (edge mode); padded-image blocks of kernel size.
  const mapAt = (idx: number[]) => maps[Math.min(Math.max(idx[0]! - 1, 0), nHist[0]! - 1)]![Math.min(Math.max(idx[1]! - 1, 0), nHist[1]! - 1)]![Math.min(Math.max(idx[2]! - 1, 0), nHist[2]! - 1)]!;
  const out = new Float64Array(shape[0] * shape[1] * shape[2]);
  for (let d = 0; d < shape[0]; d++)
    for (let h = 0; h < shape[1]; h++)
      for (let w = 0; w < shape[2]; w++) {
        const p = [d + padStart[0]!, h + padStart[1]!, w + padStart[2]!];
        const block = p.map((x, a) => Math.floor(x / kernel[a]!));
        const t = p.map((x, a) => (x % kernel[a]!) / kernel[a]!);
        const bin = at(p);
        let v = 0;
        for (let e = 0; e < 8; e++) {
          const edge = [(e >> 2) & 1, (e >> 1) & 1, e & 1];
          const weight = edge.reduce((wgt, ed, a) => wgt * (ed ? t[a]! : 1 - t[a]!), 1);
          v += weight * mapAt(block.map((b, a) => b + edge[a]!))[bin]!;
        }
        out[(d * shape[1] + h) * shape[2] + w] = Math.trunc(v + 1e-9);
      }
  const rmin = Math.min(...out);
  const rmax = Math.max(...out);
  return out.map((v) => (v - rmin) / (rmax - rmin));
}

describe('CLAHE', () => {
  it('clips histograms exactly like the reference', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const hist = Array.from({ length: 16 }, () => (rng.bool(0.3) ? rng.int(0, 60) : rng.int(0, 5)));
      const clip = rng.int(1, 12);
      const got = Int32Array.from(hist);
      clipHistogram(got, clip);
      expect(Array.from(got)).toEqual(clipHistogramReference(hist, clip));
    }
  });

  it('matches the float64 reference on small volumes with odd sizes and kernels', () => {
    const configs: [Shape3, Vec3, number, number][] = [
      [[13, 17, 11], [4, 5, 3], 0.05, 256],
      [[9, 8, 10], [3, 3, 3], 0.01, 64],
      [[16, 16, 16], [2, 2, 2], 0.05, 256],
      [[7, 12, 9], [7, 4, 2], 0.5, 32],
    ];
    configs.forEach(([shape, kernel, clipLimit, nbins], k) => {
      // Smooth structure plus noise, so regions have different histograms.
      const rng = new Rng(100 + k);
      const image = new Float32Array(shape[0] * shape[1] * shape[2]);
      for (let i = 0; i < image.length; i++) {
        const w = i % shape[2];
        const d = Math.floor(i / (shape[1] * shape[2]));
        image[i] = Math.min(1, Math.max(0, 0.3 + 0.4 * Math.sin(w / 3 + d / 4) * 0.5 + 0.1 * rng.normal()));
      }
      const got = clahe3d(image, shape, { kernelSize: kernel, clipLimit, nbins });
      const want = claheReference(image, shape, kernel, clipLimit, nbins);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst).toBeLessThan(1e-6);
      expect(Math.min(...got)).toBe(0);
      expect(Math.max(...got)).toBe(1);
    });
  });

  it('with one contextual region is a global, monotone histogram equalisation', () => {
    const shape: Shape3 = [8, 8, 8];
    const rng = new Rng(5);
    // Skewed intensities: most voxels dark. Equalisation spreads them over the whole range.
    const image = Float32Array.from({ length: 512 }, () => rng.next() ** 3);
    const out = clahe3d(image, shape, { kernelSize: [8, 8, 8], clipLimit: 1 });
    const order = Array.from(image.keys()).sort((a, b) => image[a]! - image[b]!);
    for (let k = 1; k < order.length; k++) expect(out[order[k]!]!).toBeGreaterThanOrEqual(out[order[k - 1]!]!);
    // The median voxel lands near the middle of the output range (it sat at 0.125 before).
    expect(out[order[256]!]!).toBeGreaterThan(0.4);
    expect(out[order[256]!]!).toBeLessThan(0.6);
  });
});

describe('body crop and the inverse mapping', () => {
  /** A 'patient': an air-filled box with a soft-tissue ellipsoid holding a lung-like hole, plus a separate small blob. */
  function toyCt(): { data: Int16Array; shape: Shape3 } {
    const shape: Shape3 = [20, 24, 28];
    const data = new Int16Array(shape[0] * shape[1] * shape[2]).fill(-1000);
    let i = 0;
    for (let d = 0; d < shape[0]; d++)
      for (let h = 0; h < shape[1]; h++)
        for (let w = 0; w < shape[2]; w++, i++) {
          const r = ((d - 10) / 8) ** 2 + ((h - 12) / 8) ** 2 + ((w - 12) / 9) ** 2;
          const lung = ((d - 10) / 3) ** 2 + ((h - 12) / 3) ** 2 + ((w - 12) / 3) ** 2 < 1;
          if (r < 1) data[i] = lung ? -850 : 40;
          if (d >= 2 && d <= 4 && h >= 2 && h <= 4 && w >= 24 && w <= 26) data[i] = 200; // the "table"
        }
    return { data, shape };
  }

  it('keeps the largest component, fills its holes and boxes it', () => {
    const { data, shape } = toyCt();
    const ct = { data, shape, spacing: [1, 1, 1] as Vec3, affine: affineFromRows([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]) };
    const { mask, box } = bodyMask(ct, 'toy.nii');
    expect(box.start).toEqual([3, 5, 4]);
    expect(box.shape).toEqual([15, 15, 17]);
    const at = (d: number, h: number, w: number) => mask[(d * shape[1] + h) * shape[2] + w];
    expect(at(10, 12, 12)).toBe(1); // the lung is inside the body
    expect(at(3, 3, 25)).toBe(0); // the table is not
    expect(largestComponent(new Uint8Array(8), [2, 2, 2]).size).toBe(0);
    expect(() => bodyMask({ ...ct, data: new Int16Array(data.length).fill(-1000) }, 'air.nii')).toThrow(/air\.nii: no body found/);
  });

  it('maps a preprocessed map back onto the original grid and affine', () => {
    const { data, shape } = toyCt();
    const affine = affineFromRows([[0, 0, -1.5, 100], [0, -2, 0, 50], [2.5, 0, 0, -30]]);
    const spacing: Vec3 = [2.5, 2, 1.5];
    const prep = preprocessCt({ data, shape, spacing, affine }, 'toy.nii', { targetSpacing: [2, 2, 2] });
    expect(prep.image.spacing.every((s) => Math.abs(s - 2) < 0.35)).toBe(true);
    expect(prep.body.data.length).toBe(prep.image.data.length);
    expect(prep.originalBody.shape).toEqual(shape);
    // A map that is a linear function of world position survives the round trip exactly.
    const world = (p: Vec3) => 0.3 * p[0] - 0.2 * p[1] + 0.1 * p[2];
    const [D, H, W] = prep.image.shape;
    const map = new Float32Array(D * H * W);
    let i = 0;
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) map[i] = world(applyAffine(prep.image.affine, [d, h, w]));
    const back = toOriginalGrid(map, prep.geometry, { fill: -1 });
    expect(back.shape).toEqual(shape);
    expect(Array.from(back.affine)).toEqual(Array.from(affine));
    const { start, shape: size } = prep.geometry.crop;
    for (let d = 0; d < shape[0]; d++)
      for (let h = 0; h < shape[1]; h++)
        for (let w = 0; w < shape[2]; w++) {
          const v = back.data[(d * shape[1] + h) * shape[2] + w]!;
          const inBox = d >= start[0] && d < start[0] + size[0] && h >= start[1] && h < start[1] + size[1] && w >= start[2] && w < start[2] + size[2];
          if (!inBox) {
            expect(v).toBe(-1);
            continue;
          }
          // Inside the preprocessed grid's outermost voxel centres the trilinear map is exact.
          const q = [d - start[0], h - start[1], w - start[2]].map((x, a) => (x - prep.geometry.map.offset[a]!) / prep.geometry.map.scale[a]!);
          if (q.every((x, a) => x >= 0 && x <= prep.image.shape[a]! - 1)) expect(v).toBeCloseTo(world(applyAffine(affine, [d, h, w])), 3);
        }
  });
});
