// Row gathers, their scatter-add and voxel gathers against plain references, with finite-difference
// gradients; repeated indices must sum, bad indices must read zeros and scatter nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray, rng } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

const values = (n: number, seed: number) => Float64Array.from(Float32Array.from(randomArray(n, seed)));

function randomIndices(count: number, rows: number, seed: number): number[] {
  const next = rng(seed);
  return Array.from({ length: count }, () => Math.floor(next() * rows));
}

function gatherRef(x: Float64Array, rows: number, cols: number, indices: number[]): Float64Array {
  const out = new Float64Array(indices.length * cols);
  indices.forEach((r, k) => {
    if (r >= 0 && r < rows) for (let c = 0; c < cols; c++) out[k * cols + c] = x[r * cols + c]!;
  });
  return out;
}

function scatterRef(v: Float64Array, rows: number, cols: number, indices: number[]): Float64Array {
  const out = new Float64Array(rows * cols);
  indices.forEach((r, k) => {
    if (r >= 0 && r < rows) for (let c = 0; c < cols; c++) out[r * cols + c] += v[k * cols + c]!;
  });
  return out;
}

describe('gatherRows', () => {
  it('matches the reference with repeated and out-of-range indices, i32 and u32', async () => {
    const [rows, cols] = [37, 5];
    const x = values(rows * cols, 1);
    const indices = [...randomIndices(60, rows, 2), 0, rows - 1, -1, rows, 3, 3];
    const expected = gatherRef(x, rows, cols, indices);
    const out = await g.tidyAsync(async () => g.gatherRows(g.fromArray(rt, x, [rows, cols]), g.fromArray(rt, indices, [indices.length], { dtype: 'i32' })).read());
    expectClose(out, expected, 0, 0, 'i32 indices');
    const valid = indices.filter((r) => r >= 0);
    const outU = await g.tidyAsync(async () => g.gatherRows(g.fromArray(rt, x, [rows, cols]), g.fromArray(rt, valid, [valid.length], { dtype: 'u32' })).read());
    expectClose(outU, gatherRef(x, rows, cols, valid), 0, 0, 'u32 indices');
  });

  it('rejects float indices and non-matrix inputs', () => {
    g.tidy(() => {
      expect(() => g.gatherRows(g.zeros(rt, [4, 2]), g.zeros(rt, [3]))).toThrow(/i32 or u32/);
      expect(() => g.gatherRows(g.zeros(rt, [4, 2, 1]), g.fromArray(rt, [0], [1], { dtype: 'i32' }))).toThrow(/\[R, C\]/);
    });
  });

  it('has the finite-difference gradient (a scatter-add over repeated indices)', async () => {
    const indices = [2, 0, 2, 4, 2, 1];
    await gradcheck(rt, (x) => g.gatherRows(x!, g.fromArray(rt, indices, [6], { dtype: 'i32' })), [{ data: randomArray(15, 3), shape: [5, 3] }]);
  });
});

describe('scatterAddRows', () => {
  it('sums repeated indices, leaves unnamed rows zero and drops out-of-range indices', async () => {
    const [rows, cols] = [23, 7];
    const indices = [...randomIndices(90, rows - 3, 4), -5, rows, 1000];
    const v = values(indices.length * cols, 5);
    const expected = scatterRef(v, rows, cols, indices);
    const run = () =>
      g.tidyAsync(async () =>
        g.scatterAddRows([rows, cols], g.fromArray(rt, indices, [indices.length], { dtype: 'i32' }), g.fromArray(rt, v, [indices.length, cols])).read(),
      );
    const first = await run();
    expectClose(first, expected, 1e-5, 1e-6);
    expect([...(await run())]).toEqual([...first]); // the same order of additions every time
  });

  it('handles a few thousand indices with many duplicates', async () => {
    const [count, rows, cols] = [3001, 211, 3];
    const indices = randomIndices(count, rows, 6);
    const v = values(count * cols, 7);
    const out = await g.tidyAsync(async () =>
      g.scatterAddRows([rows, cols], g.fromArray(rt, indices, [count], { dtype: 'i32' }), g.fromArray(rt, v, [count, cols])).read(),
    );
    // About 14 terms per row: the float32 sum stays within 1e-5 of the float64 one.
    expectClose(out, scatterRef(v, rows, cols, indices), 1e-4, 1e-5);
  });

  it('names a values shape that does not match', () => {
    g.tidy(() => {
      const idx = g.fromArray(rt, [0, 1], [2], { dtype: 'i32' });
      expect(() => g.scatterAddRows([4, 3], idx, g.zeros(rt, [2, 2]))).toThrow(/values must be f32 \[2, 3\]/);
    });
  });

  it('has the finite-difference gradient (a gather)', async () => {
    const indices = [3, 0, 3, 1, 7];
    await gradcheck(rt, (v) => g.scatterAddRows([4, 2], g.fromArray(rt, indices, [5], { dtype: 'i32' }), v!), [{ data: randomArray(10, 8), shape: [5, 2] }]);
  });
});

describe('gatherVoxels', () => {
  it('picks channel vectors at (n, d, h, w), zeros outside the map', async () => {
    const shape = [2, 3, 5, 4, 3] as const;
    const [, D, H, W, C] = shape;
    const fm = values(shape.reduce((p, d) => p * d, 1), 9);
    const next = rng(10);
    const coords: number[][] = Array.from({ length: 40 }, () => shape.slice(0, 4).map((d) => Math.floor(next() * d)));
    coords.push([1, 2, 4, 3], [0, 0, 0, 0], [2, 0, 0, 0], [0, -1, 0, 0], [0, 0, 5, 0], [0, 0, 0, 4]);
    const rows = coords.map(([n, d, h, w]) => {
      const inside = n! >= 0 && n! < shape[0] && d! >= 0 && d! < D && h! >= 0 && h! < H && w! >= 0 && w! < W;
      return inside ? ((n! * D + d!) * H + h!) * W + w! : -1;
    });
    const out = await g.tidyAsync(async () => {
      const t = g.gatherVoxels(g.fromArray(rt, fm, shape), g.fromArray(rt, coords.flat(), [coords.length, 4], { dtype: 'i32' }));
      expect(t.shape).toEqual([coords.length, C]);
      return t.read();
    });
    expectClose(out, gatherRef(fm, 2 * D * H * W, C, rows), 0, 0);
  });

  it('has the finite-difference gradient with respect to the feature map', async () => {
    const coords = [0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 0];
    await gradcheck(rt, (fm) => g.gatherVoxels(fm!, g.fromArray(rt, coords, [4, 4], { dtype: 'i32' })), [
      { data: randomArray(24, 11), shape: [2, 2, 2, 1, 3] },
    ]);
  });
});
