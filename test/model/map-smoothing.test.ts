// The anomaly map's smoothing (density.smoothMm) against a float64 reference: the floor outside the
// body, then a separable Gaussian whose width in voxels is the smoothing in mm over each axis' spacing.
import { describe, expect, it } from 'vitest';
import type { Shape3 } from '../../src/data/geometry/volume';
import { smoothAnomalyMap } from '../../src/model/map-smoothing';
import { expectClose, randomArray } from '../helpers/reference';

/** Gaussian smoothing in float64 with replicated edges, written out voxel by voxel (not separably). */
function referenceSmoothing(map: Float32Array, body: Uint8Array, shape: Shape3, sigmaVoxels: number[]): Float64Array {
  let floor = Infinity;
  map.forEach((v, i) => body[i] && (floor = Math.min(floor, v)));
  const floored = Float64Array.from(map, (v, i) => (body[i] ? v : floor));
  const kernels = sigmaVoxels.map((s) => {
    const r = Math.max(1, Math.ceil(3 * s));
    const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * s * s)));
    const sum = k.reduce((a, b) => a + b, 0);
    return { r, k: k.map((v) => v / sum) };
  });
  const [D, H, W] = shape;
  const clamp = (i: number, n: number) => Math.min(n - 1, Math.max(0, i));
  const out = new Float64Array(D * H * W);
  for (let d = 0; d < D; d++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) {
        let acc = 0;
        for (let a = -kernels[0]!.r; a <= kernels[0]!.r; a++)
          for (let b = -kernels[1]!.r; b <= kernels[1]!.r; b++)
            for (let c = -kernels[2]!.r; c <= kernels[2]!.r; c++) {
              const weight = kernels[0]!.k[a + kernels[0]!.r]! * kernels[1]!.k[b + kernels[1]!.r]! * kernels[2]!.k[c + kernels[2]!.r]!;
              acc += weight * floored[(clamp(d + a, D) * H + clamp(h + b, H)) * W + clamp(w + c, W)]!;
            }
        out[(d * H + h) * W + w] = acc;
      }
  return out;
}

describe('smoothAnomalyMap', () => {
  const shape: Shape3 = [6, 7, 9];
  const spacing: [number, number, number] = [3, 2, 4];
  const n = shape[0] * shape[1] * shape[2];
  const map = Float32Array.from(randomArray(n, 7, -2, 5));
  // A body that leaves out a corner block, so that the floor rule matters.
  const body = Uint8Array.from({ length: n }, (_, i) => (i % (shape[1] * shape[2]) < 20 && i < 3 * shape[1] * shape[2] ? 0 : 1));

  it('matches a float64 Gaussian of sigma mm / spacing per axis over the map floored outside the body', () => {
    const sigmaMm = 5;
    const got = smoothAnomalyMap(map, { image: { shape, spacing }, body: { data: body } }, sigmaMm);
    expectClose(got, referenceSmoothing(map, body, shape, spacing.map((s) => sigmaMm / s)), 1e-5, 1e-5);
  });

  it('leaves the map itself at 0 mm and a map constant in the body constant everywhere', () => {
    expect(smoothAnomalyMap(map, { image: { shape, spacing }, body: { data: body } }, 0)).toBe(map);
    const constant = Float32Array.from(body, (b) => (b ? 2.5 : -40));
    const smoothed = smoothAnomalyMap(constant, { image: { shape, spacing }, body: { data: body } }, 8);
    for (const v of smoothed) expect(v).toBeCloseTo(2.5, 5);
  });

  it('refuses a negative or non-finite smoothing and a body of another size', () => {
    const scan = { image: { shape, spacing }, body: { data: body } };
    expect(() => smoothAnomalyMap(map, scan, -1)).toThrow(/finite number of mm/);
    expect(() => smoothAnomalyMap(map, scan, Number.NaN)).toThrow(/finite number of mm/);
    expect(() => smoothAnomalyMap(map.subarray(1), scan, 2)).toThrow(/values and a .*-voxel body/);
  });
});
