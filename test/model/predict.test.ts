// The sliding-window predictor: window placement, Gaussian blending and the whole windowed pipeline
// (window -> stand-in model -> trilinear upsampling -> blend) against a float64 reference, and the same
// for a model compared with its own scan (descriptors of every window blended per scan cell, then a search apart).
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { identityAffine, type Shape3 } from '../../src/data/geometry/volume';
import { anomalyOnOriginalGrid, defaultWindowBatch, predictPreprocessed, type WindowModel } from '../../src/model/predict';
import { SCAN_REFERENCE_ROWS } from '../../src/model/config';
import { drawScanReference, SCAN_REFERENCE_APART_MM } from '../../src/model/scan-reference';
import { WindowBlender } from '../../src/model/window-blend';
import { extractWindow, gaussianWindowWeights, MIN_WEIGHT, PAD_VALUE, placeWindows, windowStarts } from '../../src/model/window-placement';
import { preprocessCt, resolvePreprocessOptions } from '../../src/data/preprocess/preprocess';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('window placement', () => {
  it('covers every voxel with neighbours overlapping by at least half a window', () => {
    for (const window of [1, 4, 7, 8, 16]) {
      for (let length = window + 1; length <= 3 * window + 5; length++) {
        const starts = windowStarts(length, window, 0.5);
        expect(starts[0]).toBe(0);
        expect(starts[starts.length - 1]).toBe(length - window);
        const covered = new Uint8Array(length);
        for (const s of starts) for (let i = s; i < s + window; i++) covered[i] = 1;
        expect(covered.every((c) => c === 1), `L=${length} w=${window}`).toBe(true);
        for (let k = 1; k < starts.length; k++) {
          const step = starts[k]! - starts[k - 1]!;
          expect(step).toBeGreaterThan(0);
          // Rounding the even spread may shorten a step, never lengthen it past half a window (+1 for odd w).
          expect(step).toBeLessThanOrEqual(Math.ceil(window / 2));
        }
      }
    }
  });

  it('centres a single padded window on an axis shorter than the window', () => {
    expect(windowStarts(5, 8)).toEqual([-1]); // voxels 0..4 sit at window positions 1..5
    expect(windowStarts(8, 8)).toEqual([0]);
    expect(windowStarts(1, 6)).toEqual([-2]);
  });

  it('lists origins D-slowest and pads windows that reach outside the scan', () => {
    const shape: Shape3 = [3, 10, 4];
    const origins = placeWindows(shape, [4, 4, 4]);
    expect(origins).toEqual([
      [0, 0, 0],
      [0, 2, 0],
      [0, 4, 0],
      [0, 6, 0],
    ]);
    const data = Float32Array.from({ length: 120 }, (_, i) => i + 1);
    const w = extractWindow(data, shape, [-1, 6, 0], [4, 4, 4]);
    expect(Array.from(w.subarray(0, 16))).toEqual(new Array(16).fill(PAD_VALUE)); // slice -1 is padding
    expect(w[16]).toBe(data[(0 * 10 + 6) * 4]); // window (1, 0, 0) = scan (0, 6, 0)
    expect(w[63]).toBe(data[(2 * 10 + 9) * 4 + 3]);
  });

  it('rejects impossible arguments', () => {
    expect(() => windowStarts(0, 4)).toThrow(/positive/);
    expect(() => windowStarts(4, 4, 1)).toThrow(/overlap/);
  });
});

describe('blending', () => {
  it('has Gaussian weights, 1 at the centre, sigma = w/8, floored', () => {
    const window: Shape3 = [6, 5, 16];
    const w = gaussianWindowWeights(window);
    const axis = (i: number, n: number) => Math.exp(-((i + 0.5 - n / 2) ** 2) / (2 * (n / 8) ** 2));
    const peak = [6, 5, 16].map((n) => Math.max(...Array.from({ length: n }, (_, i) => axis(i, n))));
    const expected = new Float64Array(w.length);
    let o = 0;
    for (let d = 0; d < 6; d++)
      for (let h = 0; h < 5; h++)
        for (let x = 0; x < 16; x++) expected[o++] = Math.max(MIN_WEIGHT, (axis(d, 6) / peak[0]!) * (axis(h, 5) / peak[1]!) * (axis(x, 16) / peak[2]!));
    expectClose(w, expected, 1e-6, 0);
    expect(Math.min(...w)).toBe(Float32Array.of(MIN_WEIGHT)[0]);
  });

  it('gives back a constant map exactly, whatever the overlap', () => {
    const shape: Shape3 = [11, 7, 13];
    const window: Shape3 = [4, 8, 5];
    const weights = gaussianWindowWeights(window);
    const blender = new WindowBlender(shape);
    for (const origin of placeWindows(shape, window)) blender.add(origin, window, new Float32Array(160).fill(2.75), weights);
    expect(Array.from(new Set(blender.result()))).toEqual([2.75]);
  });

  it('refuses to return a map with an uncovered voxel', () => {
    const blender = new WindowBlender([2, 2, 2]);
    blender.add([0, 0, 0], [1, 2, 2], new Float32Array(4), new Float32Array(4).fill(1));
    expect(() => blender.result()).toThrow(/covered by no window/);
  });
});

/**
 * A stand-in model with the Screener's contract: NLL per pooled voxel = 2x2x2 mean of (x - 0.3)^2 +
 * the window's origin d, for a batch of windows; records each window's position and each batch's size.
 */
function poolingModel(window: Shape3, seen: { origin: number[]; scanShape: number[] }[], batches: number[] = []): WindowModel {
  return {
    windowShape: window,
    preprocess: resolvePreprocessOptions({ targetSpacing: [2, 2, 2] }),
    scoreWindow(image, positions) {
      const n = image.shape[0]!;
      expect(positions!.length).toBe(n);
      batches.push(n);
      for (const p of positions!) seen.push({ origin: [...p.origin], scanShape: [...p.scanShape] });
      const centred = g.addScalar(image, -0.3);
      const offsets = g.fromArray(image.runtime, Float32Array.from(positions!, (p) => p.origin[0]), [n, 1, 1, 1, 1]);
      return g.add(g.avgPool3d(g.mul(centred, centred), 2), offsets);
    },
  };
}

/** The same pipeline in float64: pool, upsample (align_corners=False), Gaussian-weighted mean over windows. */
function referenceMap(image: Float64Array, shape: Shape3, window: Shape3): Float64Array {
  return blendReference(shape, window, (origin) => {
    const [D, H, W] = shape;
    const at = (d: number, h: number, w: number) => {
      const [sd, sh, sw] = [origin[0] + d, origin[1] + h, origin[2] + w];
      return sd < 0 || sd >= D || sh < 0 || sh >= H || sw < 0 || sw >= W ? 0 : image[(sd * H + sh) * W + sw]!;
    };
    const pooled = window.map((n) => n / 2);
    const p = new Float64Array(pooled[0]! * pooled[1]! * pooled[2]!);
    for (let d = 0; d < pooled[0]!; d++)
      for (let h = 0; h < pooled[1]!; h++)
        for (let w = 0; w < pooled[2]!; w++) {
          let s = 0;
          for (let a = 0; a < 8; a++) s += (at(2 * d + (a >> 2), 2 * h + ((a >> 1) & 1), 2 * w + (a & 1)) - 0.3) ** 2;
          p[(d * pooled[1]! + h) * pooled[2]! + w] = s / 8 + origin[0];
        }
    return p;
  });
}

/**
 * Float64 upsampling (align_corners=False) of each window's pooled scores (2x2x2 cells, row-major), given
 * by `pooledScores`, and their Gaussian-weighted mean over the windows.
 */
/** Float64: the blending weight of voxel (d, h, w) of a window, a Gaussian of sigma = 1/8 of the window per axis, 1 at the centre, floored. */
function windowWeight64(window: Shape3, d: number, h: number, w: number): number {
  const axis = (i: number, n: number) => Math.exp(-((i + 0.5 - n / 2) ** 2) / (2 * (n / 8) ** 2));
  const normalised = (i: number, n: number) => axis(i, n) / Math.max(...Array.from({ length: n }, (_, k) => axis(k, n)));
  return Math.max(MIN_WEIGHT, normalised(d, window[0]) * normalised(h, window[1]) * normalised(w, window[2]));
}

function blendReference(shape: Shape3, window: Shape3, pooledScores: (origin: Shape3) => Float64Array): Float64Array {
  const [D, H, W] = shape;
  const [wd, wh, ww] = window;
  const pooled: Shape3 = [wd / 2, wh / 2, ww / 2];
  const taps = (o: number, n: number, m: number): [number, number][] => {
    const s = Math.max(((o + 0.5) * n) / m - 0.5, 0);
    const lo = Math.floor(s);
    const hi = Math.min(lo + 1, n - 1);
    return [
      [lo, 1 - (s - lo)],
      [hi, s - lo],
    ];
  };
  const sums = new Float64Array(D * H * W);
  const weightSums = new Float64Array(D * H * W);
  for (const origin of placeWindows(shape, window)) {
    const p = pooledScores(origin);
    for (let d = 0; d < wd; d++)
      for (let h = 0; h < wh; h++)
        for (let w = 0; w < ww; w++) {
          const [sd, sh, sw] = [origin[0] + d, origin[1] + h, origin[2] + w];
          if (sd < 0 || sd >= D || sh < 0 || sh >= H || sw < 0 || sw >= W) continue;
          let v = 0;
          for (const [id, td] of taps(d, pooled[0], wd))
            for (const [ih, th] of taps(h, pooled[1], wh))
              for (const [iw, tw] of taps(w, pooled[2], ww)) v += td * th * tw * p[(id * pooled[1] + ih) * pooled[2] + iw]!;
          const weight = windowWeight64(window, d, h, w);
          const i = (sd * H + sh) * W + sw;
          sums[i]! += weight * v;
          weightSums[i]! += weight;
        }
  }
  return sums.map((s, i) => s / weightSums[i]!);
}

describe('windowed prediction', () => {
  it('matches the float64 reference on an odd scan with an axis shorter than the window', async () => {
    const shape: Shape3 = [13, 5, 19];
    const window: Shape3 = [8, 8, 6];
    const image = randomArray(13 * 5 * 19, 7, 0, 1);
    const seen: { origin: number[]; scanShape: number[] }[] = [];
    const progress: number[] = [];
    const result = await predictPreprocessed(rt, poolingModel(window, seen), { data: Float32Array.from(image), shape }, { onProgress: (done, total) => progress.push(done / total) });
    const origins = placeWindows(shape, window);
    expect(result.windows).toBe(origins.length);
    expect(seen.map((s) => s.origin)).toEqual(origins);
    expect(seen.every((s) => s.scanShape.join() === shape.join())).toBe(true);
    expect(progress[progress.length - 1]).toBe(1);
    expectClose(result.map, referenceMap(image, shape, window), 1e-4, 1e-6, 'blended map');
  });

  it('gives the same map whatever the number of windows per batch, and reports progress per batch', async () => {
    const shape: Shape3 = [13, 5, 19];
    const window: Shape3 = [8, 8, 6];
    const image = Float32Array.from(randomArray(13 * 5 * 19, 9, 0, 1));
    const reference = referenceMap(Float64Array.from(image), shape, window);
    const total = placeWindows(shape, window).length;
    for (const batch of [1, 4, total + 3]) {
      const seen: { origin: number[]; scanShape: number[] }[] = [];
      const sizes: number[] = [];
      const progress: number[] = [];
      const result = await predictPreprocessed(rt, poolingModel(window, seen, sizes), { data: image, shape }, { batch, onProgress: (done) => progress.push(done) });
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...sizes)).toBe(Math.min(batch, total));
      expect(progress).toEqual(sizes.map((_, k) => sizes.slice(0, k + 1).reduce((a, b) => a + b, 0)));
      expectClose(result.map, reference, 1e-4, 1e-6, `batch ${batch}`);
    }
    await expect(predictPreprocessed(rt, poolingModel(window, []), { data: image, shape }, { batch: 0 })).rejects.toThrow(/batch must be a positive integer/);
  });

  it('stops between batches once its signal is aborted, with the signal\'s reason, and frees its tensors', async () => {
    const shape: Shape3 = [13, 5, 19];
    const window: Shape3 = [8, 8, 6];
    const image = Float32Array.from(randomArray(13 * 5 * 19, 10, 0, 1));
    const controller = new AbortController();
    const sizes: number[] = [];
    const liveBefore = rt.pool.getStats().liveBuffers;
    const run = predictPreprocessed(rt, poolingModel(window, [], sizes), { data: image, shape }, {
      batch: 1,
      signal: controller.signal,
      onProgress: (done) => done === 2 && controller.abort(new Error('cancelled by the user')),
    });
    await expect(run).rejects.toThrow('cancelled by the user');
    expect(sizes.length).toBeLessThan(placeWindows(shape, window).length);
    expect(rt.pool.getStats().liveBuffers).toBe(liveBefore);
  });

  it('batches about 2^16 voxels of small windows, one window of large ones', () => {
    expect(defaultWindowBatch([16, 16, 16])).toBe(16);
    expect(defaultWindowBatch([32, 32, 32])).toBe(2);
    expect(defaultWindowBatch([96, 96, 64])).toBe(1);
  });

  it('maps the blended map back onto the original grid, the minimum outside the body', () => {
    // A 12^3 "CT": a 6^3 block of soft tissue in air; preprocessing crops it to the body.
    const ct = new Int16Array(12 * 12 * 12).fill(-1000);
    for (let d = 3; d < 9; d++) for (let h = 3; h < 9; h++) for (let w = 3; w < 9; w++) ct[(d * 12 + h) * 12 + w] = 40;
    const affine = identityAffine();
    affine[0] = 2; // 2 mm slices
    const scan = preprocessCt({ data: ct, shape: [12, 12, 12], spacing: [2, 1, 1], affine }, 'block', { targetSpacing: [2, 2, 2], clahe: false });
    const map = Float32Array.from(scan.image.data, (_, i) => 5 + (i % 7));
    const { anomaly, floor } = anomalyOnOriginalGrid(map, scan);
    expect(anomaly.shape).toEqual([12, 12, 12]);
    expect(Array.from(anomaly.affine)).toEqual(Array.from(affine));
    expect(floor).toBe(5);
    for (let i = 0; i < anomaly.data.length; i++) {
      if (!scan.originalBody.data[i]) expect(anomaly.data[i]).toBe(5);
      else expect(anomaly.data[i]).toBeGreaterThanOrEqual(5);
    }
    expect(Math.max(...anomaly.data)).toBeGreaterThan(5);
  });
});

/**
 * A stand-in for a knn model compared with its own scan: descriptors are the 2x2x2 means of x and x^2
 * (d = 2), the bank one row at the origin (bankDistance = the descriptor's length).
 */
function scanReferenceModel(window: Shape3, reference: 'scan' | 'both', rows = SCAN_REFERENCE_ROWS): WindowModel {
  const pooledDescriptors = (image: g.Tensor) => g.avgPool3d(g.concat([image, g.mul(image, image)], 4), 2);
  return {
    windowShape: window,
    preprocess: resolvePreprocessOptions({ targetSpacing: [3, 3, 3] }),
    scoreWindow: () => {
      throw new Error('a model compared with its scan is not scored window by window');
    },
    scanReference: {
      reference,
      rows,
      poolStride: [2, 2, 2],
      pooledDescriptors,
      bankDistance: (descriptors) => g.sqrt(g.sum(g.mul(descriptors, descriptors), [1])),
    },
  };
}

describe('prediction against the scan itself', () => {
  // 69 x 60 x 84 mm at 3 mm: wide enough that every cell has reference rows more than 32 mm away. The
  // odd first axis puts some windows at odd starts, astride the scan's cells, and leaves a half cell.
  const shape: Shape3 = [23, 20, 28];
  const window: Shape3 = [8, 8, 8];
  const spacing = [3, 3, 3];
  const image = randomArray(23 * 20 * 28, 12, 0, 1);
  // An ellipsoidal body that leaves air at the corners, so some cells touch no body voxel.
  const body = Uint8Array.from({ length: image.length }, (_, i) => {
    const [d, h, w] = [Math.floor(i / (20 * 28)), Math.floor(i / 28) % 20, i % 28];
    return ((d - 11) / 11.5) ** 2 + ((h - 9.5) / 10) ** 2 + ((w - 13.5) / 14) ** 2 <= 1 ? 1 : 0;
  });

  /**
   * Float64: every window's 2^3 cells described, each scan cell's descriptor the mean of the windows'
   * descriptors of it (the window cell whose centre it holds) weighted by the cell's summed blending
   * weights, each scan cell touching the body scored against the reference cells (wholly in the body,
   * drawn as the engine draws them) more than 32 mm away, and each window cell given its scan cell's score.
   */
  function referenceScanMap(reference: 'scan' | 'both', rows: number): Float64Array {
    const origins = placeWindows(shape, window);
    const [D, H, W] = shape;
    const grid: Shape3 = [Math.ceil(D / 2), Math.ceil(H / 2), Math.ceil(W / 2)];
    const cells = grid[0] * grid[1] * grid[2];
    const voxel = (sd: number, sh: number, sw: number) => (sd < 0 || sd >= D || sh < 0 || sh >= H || sw < 0 || sw >= W ? null : (sd * H + sh) * W + sw);
    // the scan cell of each window cell, by its centre; -1 outside the scan
    const scanCell = (origin: Shape3, cell: number) => {
      const at = [cell >> 4, (cell >> 2) & 3, cell & 3].map((c, axis) => Math.floor((origin[axis]! + 2 * c + 0.5) / 2));
      return at.every((v, axis) => v >= 0 && v < grid[axis]!) ? (at[0]! * grid[1] + at[1]!) * grid[2] + at[2]! : -1;
    };
    const sums = new Float64Array(cells * 2);
    const weightSums = new Float64Array(cells);
    for (const origin of origins) {
      for (let cell = 0; cell < 64; cell++) {
        const f = scanCell(origin, cell);
        const [a, b, c] = [cell >> 4, (cell >> 2) & 3, cell & 3];
        let [mean, square, weight] = [0, 0, 0];
        for (let k = 0; k < 8; k++) {
          const [d, h, w] = [2 * a + (k >> 2), 2 * b + ((k >> 1) & 1), 2 * c + (k & 1)];
          const i = voxel(origin[0] + d, origin[1] + h, origin[2] + w);
          const v = i === null ? 0 : image[i]!;
          mean += v / 8;
          square += (v * v) / 8;
          weight += windowWeight64(window, d, h, w);
        }
        if (f < 0) continue;
        sums[f * 2]! += weight * mean;
        sums[f * 2 + 1]! += weight * square;
        weightSums[f]! += weight;
      }
    }
    const field = {
      grid,
      descriptors: new Float32Array(cells * 2),
      centres: new Float32Array(cells * 3),
      touchesBody: new Uint8Array(cells),
      inBody: new Uint8Array(cells),
      windowCells: [],
    };
    const x = new Float64Array(cells * 2);
    for (let f = 0; f < cells; f++) {
      const [a, b, c] = [Math.floor(f / (grid[1] * grid[2])), Math.floor(f / grid[2]) % grid[1], f % grid[2]];
      [a, b, c].forEach((v, axis) => (field.centres[f * 3 + axis] = (2 * v + 0.5) * spacing[axis]!));
      if (!(weightSums[f]! > 0)) continue;
      x[f * 2] = sums[f * 2]! / weightSums[f]!;
      x[f * 2 + 1] = sums[f * 2 + 1]! / weightSums[f]!;
      let inside = 0;
      for (let k = 0; k < 8; k++) {
        const i = voxel(2 * a + (k >> 2), 2 * b + ((k >> 1) & 1), 2 * c + (k & 1));
        if (i !== null) inside += body[i]!;
      }
      field.touchesBody[f] = inside > 0 ? 1 : 0;
      field.inBody[f] = inside === 8 ? 1 : 0;
    }
    // The draw depends on which cells lie wholly in the body, not on their values.
    const drawnRows = drawScanReference(field, 2, rows);
    const drawn = Array.from({ length: drawnRows.count }, (_, j) => {
      const f = [0, 1, 2].reduce((at, axis) => at * grid[axis]! + Math.round((drawnRows.positions[j * 3 + axis]! / spacing[axis]! - 0.5) / 2), 0);
      return f;
    });
    const scores = new Float64Array(cells);
    for (let f = 0; f < cells; f++) {
      if (!field.touchesBody[f]) continue;
      let best = Infinity;
      for (const r of drawn) {
        const apart = [0, 1, 2].reduce((s, a) => s + (field.centres[f * 3 + a]! - field.centres[r * 3 + a]!) ** 2, 0);
        if (apart <= SCAN_REFERENCE_APART_MM ** 2) continue;
        best = Math.min(best, Math.hypot(x[f * 2]! - x[r * 2]!, x[f * 2 + 1]! - x[r * 2 + 1]!));
      }
      if (best === Infinity) continue;
      scores[f] = reference === 'both' ? Math.min(best, Math.hypot(x[f * 2]!, x[f * 2 + 1]!)) : best;
    }
    return blendReference(shape, window, (origin) => Float64Array.from({ length: 64 }, (_, cell) => {
      const f = scanCell(origin, cell);
      return f < 0 ? 0 : scores[f]!;
    }));
  }

  for (const reference of ['scan', 'both'] as const) {
    it(`matches the float64 reference with the ${reference === 'scan' ? 'scan alone' : 'nearer of bank and scan'}, in any batch size`, async () => {
      const expected = referenceScanMap(reference, SCAN_REFERENCE_ROWS);
      for (const batch of reference === 'scan' ? [1, 3] : [3]) {
        const progress: number[] = [];
        const result = await predictPreprocessed(rt, scanReferenceModel(window, reference), { data: Float32Array.from(image), shape, body, spacing }, { batch, onProgress: (done, total) => progress.push(done / total) });
        const windows = placeWindows(shape, window).length;
        expect(result.windows).toBe(windows);
        // Every batch of each pass reports, and so does the search between them (one chunk here).
        const batches = Math.ceil(windows / batch);
        expect(progress).toHaveLength(2 * batches + 1);
        expect(progress.every((p, i) => i === 0 || p >= progress[i - 1]!)).toBe(true);
        expect(progress[batches]!).toBeGreaterThan(progress[batches - 1]!);
        expect(progress[progress.length - 1]).toBe(1);
        expectClose(result.map, expected, 1e-4, 1e-6, `${reference}, batch ${batch}`);
      }
    });
  }

  it("draws as many of the scan's cells as the model asks for", async () => {
    // Fewer rows than the body's cells: the model's number decides the draw, and so the map.
    const few = referenceScanMap('scan', 40);
    const all = referenceScanMap('scan', SCAN_REFERENCE_ROWS);
    expect(Array.from(few).some((v, i) => Math.abs(v - all[i]!) > 1e-3)).toBe(true);
    const result = await predictPreprocessed(rt, scanReferenceModel(window, 'scan', 40), { data: Float32Array.from(image), shape, body, spacing }, { batch: 2 });
    expectClose(result.map, few, 1e-4, 1e-6, 'scan, 40 rows');
  });

  it('needs the body mask and the voxel size', async () => {
    await expect(predictPreprocessed(rt, scanReferenceModel(window, 'scan'), { data: Float32Array.from(image), shape })).rejects.toThrow(/compares each voxel with the rest of its scan \(knn reference 'scan'\).*body mask and voxel size/);
  });
});
