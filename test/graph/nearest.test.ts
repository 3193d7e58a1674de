// The nearest-row search behind the knn density, against a float64 search on random inputs (outputs
// poisoned by the test runtime): every query's index, ties resolved to the lowest index, rows and banks
// of sizes that do not fill the shader's workgroups or bank tiles, and the bad shapes it refuses.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { nearestRows as nearestKernel } from '../../src/kernels/nearest-row';
import { randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

/** Float64 squared distances of query row i to every bank row. */
function distancesOf(x: Float32Array, bank: Float32Array, cols: number, i: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < bank.length / cols; j++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += (x[i * cols + c]! - bank[j * cols + c]!) ** 2;
    out.push(s);
  }
  return out;
}

async function nearest(x: Float32Array, bank: Float32Array, cols: number): Promise<Int32Array> {
  return (await g.tidyAsync(async () => g.nearestRows(g.fromArray(rt, x, [x.length / cols, cols]), g.fromArray(rt, bank, [bank.length / cols, cols])).readInt())) as Int32Array;
}

describe('nearestRows', () => {
  // (rows, bank rows, cols): a partial workgroup, a bank spanning several shared-memory tiles with a
  // partial last one, cols that are and are not multiples of 4, and the longest row the kernel takes.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [70, 300, 3],
    [129, 517, 16],
    [65, 200, 33],
    [33, 40, 64],
  ];
  for (const [rows, bankRows, cols] of shapes) {
    it(`finds the nearest of ${bankRows} rows for ${rows} queries of ${cols} values`, async () => {
      const x = Float32Array.from(randomArray(rows * cols, rows + cols));
      const bank = Float32Array.from(randomArray(bankRows * cols, bankRows + 7));
      const found = await nearest(x, bank, cols);
      expect(found.length).toBe(rows);
      for (let i = 0; i < rows; i++) {
        const d = distancesOf(x, bank, cols, i);
        const best = Math.min(...d);
        const index = found[i]!;
        expect(Number.isInteger(index) && index >= 0 && index < bankRows, `query ${i}: index ${index}`).toBe(true);
        // The float32 search may pick another row only where float32 rounding cannot tell the two apart.
        expect(d[index]! - best, `query ${i}: row ${index} at ${d[index]}, the nearest at ${best}`).toBeLessThanOrEqual(1e-5 * (1 + best));
        if (d.filter((v) => v - best <= 1e-4 * (1 + best)).length === 1) expect(index, `query ${i}`).toBe(d.indexOf(best));
      }
    });
  }

  // The kernel searches for several query rows per invocation (16 on a software adapter, 1 on a GPU):
  // every block size finds the same rows, with row counts that leave the last block partly empty.
  for (const block of [1, 3, 16]) {
    it(`finds the same rows searching for ${block} queries per invocation`, async () => {
      const [rows, bankRows, cols] = [150, 530, 12];
      const x = Float32Array.from(randomArray(rows * cols, 11));
      const bank = Float32Array.from(randomArray(bankRows * cols, 12));
      const found = (await g.tidyAsync(async () => {
        const out = g.empty(rt, [rows], 'i32');
        nearestKernel(rt, g.fromArray(rt, x, [rows, cols]).buffer, rows, cols, g.fromArray(rt, bank, [bankRows, cols]).buffer, bankRows, out.buffer, block);
        return out.readInt();
      })) as Int32Array;
      for (let i = 0; i < rows; i++) {
        const d = distancesOf(x, bank, cols, i);
        expect(d[found[i]!]! - Math.min(...d), `query ${i}`).toBeLessThanOrEqual(1e-5 * (1 + Math.min(...d)));
      }
    });
  }

  it('gives the lowest index among equal rows, and each query its own nearest', async () => {
    const cols = 5;
    const row = (v: number) => Array.from({ length: cols }, (_, c) => v + c);
    const bank = Float32Array.from([...row(10), ...row(2), ...row(7), ...row(2), ...row(2)]);
    const x = Float32Array.from([...row(2.1), ...row(9), ...row(6), ...row(-50)]);
    expect([...(await nearest(x, bank, cols))]).toEqual([1, 0, 2, 1]);
  });

  // Apart: only bank rows farther than a distance from the query's own position count (a scan's tissue
  // elsewhere). Positions on a 40-unit cube, so that a distance of 12 excludes a fair share of rows.
  for (const [rows, bankRows, cols, block] of [[70, 300, 16, undefined], [129, 517, 5, undefined], [50, 260, 16, 1]] as const) {
    it(`finds the nearest of ${bankRows} rows at least 12 away from each of ${rows} queries of ${cols} values${block ? `, ${block} per invocation` : ''}`, async () => {
      const x = Float32Array.from(randomArray(rows * cols, rows + 3));
      const bank = Float32Array.from(randomArray(bankRows * cols, bankRows + 5));
      const xPosition = Float32Array.from(randomArray(rows * 3, 21), (v) => 20 + 20 * v);
      const bankPosition = Float32Array.from(randomArray(bankRows * 3, 22), (v) => 20 + 20 * v);
      const minDistance = 12;
      const found = (await g.tidyAsync(async () => {
        const positions = { xPosition: g.fromArray(rt, xPosition, [rows, 3]), bankPosition: g.fromArray(rt, bankPosition, [bankRows, 3]), minDistance };
        if (block === undefined) return g.nearestRows(g.fromArray(rt, x, [rows, cols]), g.fromArray(rt, bank, [bankRows, cols]), positions).readInt();
        const out = g.empty(rt, [rows], 'i32');
        const buffers = { xPosition: positions.xPosition.buffer, bankPosition: positions.bankPosition.buffer, minDistance };
        nearestKernel(rt, g.fromArray(rt, x, [rows, cols]).buffer, rows, cols, g.fromArray(rt, bank, [bankRows, cols]).buffer, bankRows, out.buffer, block, buffers);
        return out.readInt();
      })) as Int32Array;
      let excluded = 0;
      for (let i = 0; i < rows; i++) {
        const far = (j: number) => [0, 1, 2].reduce((s, a) => s + (xPosition[i * 3 + a]! - bankPosition[j * 3 + a]!) ** 2, 0) > minDistance ** 2;
        const d = distancesOf(x, bank, cols, i).map((v, j) => (far(j) ? v : Infinity));
        excluded += d.filter((v) => v === Infinity).length;
        const best = Math.min(...d);
        const index = found[i]!;
        expect(Number.isInteger(index) && index >= 0 && index < bankRows && far(index), `query ${i}: index ${index}`).toBe(true);
        expect(d[index]! - best, `query ${i}: row ${index} at ${d[index]}, the nearest far row at ${best}`).toBeLessThanOrEqual(1e-5 * (1 + best));
      }
      // The exclusion did something: a good share of the pairs were too close, so the plain search differs.
      expect(excluded / (rows * bankRows)).toBeGreaterThan(0.02);
      const plain = await nearest(x, bank, cols);
      expect(plain.some((j, i) => j !== found[i])).toBe(true);
    });
  }

  it('gives -1 to a query with no bank row far enough from it', async () => {
    const x = Float32Array.from([0, 0, 1, 1]);
    const bank = Float32Array.from([0, 0, 5, 5, 1, 1]);
    const xPosition = Float32Array.from([0, 0, 0, 10, 0, 0]);
    const bankPosition = Float32Array.from([0, 0, 1, 0, 1, 0, 9, 0, 0]);
    const found = (await g.tidyAsync(async () =>
      g.nearestRows(g.fromArray(rt, x, [2, 2]), g.fromArray(rt, bank, [3, 2]), { xPosition: g.fromArray(rt, xPosition, [2, 3]), bankPosition: g.fromArray(rt, bankPosition, [3, 3]), minDistance: 5 }).readInt(),
    )) as Int32Array;
    // Query 0 (at the origin) is near bank rows 0 and 1 and far from row 2; query 1 (at x = 10) only from rows 0 and 1.
    expect([...found]).toEqual([2, 0]);
    const none = (await g.tidyAsync(async () =>
      g.nearestRows(g.fromArray(rt, x, [2, 2]), g.fromArray(rt, bank, [3, 2]), { xPosition: g.fromArray(rt, xPosition, [2, 3]), bankPosition: g.fromArray(rt, bankPosition, [3, 3]), minDistance: 50 }).readInt(),
    )) as Int32Array;
    expect([...none]).toEqual([-1, -1]);
  });

  it('refuses mismatched rows, float banks of another width, rows too long and an empty bank', () => {
    g.tidy(() => {
      expect(() => g.nearestRows(g.zeros(rt, [4, 3]), g.zeros(rt, [5, 2]))).toThrow(/same D/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 3, 1]), g.zeros(rt, [5, 3]))).toThrow(/\[M, D\]/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 65]), g.zeros(rt, [5, 65]))).toThrow(/1 to 64 values/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 3]), g.zeros(rt, [0, 3]))).toThrow(/empty/);
      const apart = (xp: number[], bp: number[], minDistance = 1) => ({ xPosition: g.zeros(rt, xp), bankPosition: g.zeros(rt, bp), minDistance });
      expect(() => g.nearestRows(g.zeros(rt, [4, 3]), g.zeros(rt, [5, 3]), apart([4, 2], [5, 3]))).toThrow(/xPosition must be f32 \[4, 3\]/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 3]), g.zeros(rt, [5, 3]), apart([4, 3], [4, 3]))).toThrow(/bankPosition must be f32 \[5, 3\]/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 3]), g.zeros(rt, [5, 3]), apart([4, 3], [5, 3], Number.NaN))).toThrow(/distance apart/);
    });
  });
});
