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

  it('refuses mismatched rows, float banks of another width, rows too long and an empty bank', () => {
    g.tidy(() => {
      expect(() => g.nearestRows(g.zeros(rt, [4, 3]), g.zeros(rt, [5, 2]))).toThrow(/same D/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 3, 1]), g.zeros(rt, [5, 3]))).toThrow(/\[M, D\]/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 65]), g.zeros(rt, [5, 65]))).toThrow(/1 to 64 values/);
      expect(() => g.nearestRows(g.zeros(rt, [4, 3]), g.zeros(rt, [0, 3]))).toThrow(/empty/);
    });
  });
});
