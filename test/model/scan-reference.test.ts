// The scan as a knn model's reference, on the CPU: which scan cell each window's pooled cell is, the
// cells' descriptors blended over the windows, which cells may be reference rows, the draw itself, and
// each cell's score from its nearest row (the GPU search is in test/graph/nearest.test.ts, the whole two-pass prediction in test/model/predict.test.ts).
import { describe, expect, it } from 'vitest';
import { SCAN_REFERENCE_ROWS } from '../../src/model/config';
import { blendCellField, cellScores, drawScanReference, scanCellOf, windowFieldCells } from '../../src/model/scan-reference';

describe('scan reference', () => {
  it("puts each window cell in the scan cell holding its centre, -1 outside the scan", () => {
    // Stride 2: a window at 4 lines up with the scan's cells; at 5 (a start spread over an odd axis)
    // its cells straddle two and go to the lower; at -3 (a window wider than the axis) the first two are outside.
    expect([0, 1, 2].map((a) => scanCellOf(4, a, 2))).toEqual([2, 3, 4]);
    expect([0, 1, 2].map((a) => scanCellOf(5, a, 2))).toEqual([2, 3, 4]);
    expect([0, 1, 2].map((a) => scanCellOf(-3, a, 2))).toEqual([-2, -1, 0]);
    expect([0, 1].map((a) => scanCellOf(3, a, 3))).toEqual([1, 2]);
    // A 4^3 window of 2^3 cells at (0, 2, -2) on a field of 2x3x2 cells.
    expect(Array.from(windowFieldCells([0, 2, -2], [4, 4, 4], [2, 2, 2], [2, 3, 2]))).toEqual([-1, 2, -1, 4, -1, 8, -1, 10]);
  });

  it("averages the windows' descriptors of each cell with their blending weights, and tells cells touching the body from cells wholly in it", () => {
    // A 4x4x6 scan at 2x3x1.5 mm (2x2x3 cells of 2^3) whose body is the voxels with w >= 3; two windows
    // of 4^3 along w, at 0 and 2: the middle cells (w 2-3) are seen by both.
    const shape = [4, 4, 6] as [number, number, number];
    const body = Uint8Array.from({ length: 96 }, (_, i) => (i % 6 >= 3 ? 1 : 0));
    const d = 2;
    // Window 0's descriptors are (1, cell), window 1's (3, 10 + cell); every voxel weighs 1 here.
    const descriptors = [0, 1].map((w) => Float32Array.from({ length: 8 * d }, (_, i) => (i % d === 0 ? 1 + 2 * w : 10 * w + Math.floor(i / d))));
    const weightsOf = Float32Array.from({ length: 64 }, () => 1);
    const field = blendCellField(descriptors, [[0, 0, 0], [0, 0, 2]], [4, 4, 4], [2, 2, 2], weightsOf, shape, [2, 3, 1.5], body, d);
    expect(field.grid).toEqual([2, 2, 3]);
    // Cell (0, 0, 0): window 0's cell 0 alone. Cell (0, 0, 1): window 0's cell 1 and window 1's cell 0, weight 8 each.
    expect(Array.from(field.descriptors.subarray(0, 2 * d))).toEqual([1, 0, 2, 5.5]);
    expect(Array.from(field.descriptors.subarray(2 * d, 3 * d))).toEqual([3, 11]);
    expect(Array.from(field.centres.subarray(3, 6))).toEqual([1, 1.5, 3.75]);
    expect(Array.from(field.touchesBody)).toEqual([0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(field.inBody)).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
    expect(field.windowCells.map((cells) => Array.from(cells))).toEqual([[0, 1, 3, 4, 6, 7, 9, 10], [1, 2, 4, 5, 7, 8, 10, 11]]);
    // Voxels of a window's first w column weigh 3: its cells there weigh 3 * 4 + 4 = 16, the others 8.
    const heavier = Float32Array.from({ length: 64 }, (_, i) => (i % 4 === 0 ? 3 : 1));
    const weighted = blendCellField(descriptors, [[0, 0, 0], [0, 0, 2]], [4, 4, 4], [2, 2, 2], heavier, shape, [2, 3, 1.5], body, d);
    // Cell (0, 0, 1): window 0's cell 1 (weight 8) and window 1's cell 0 (weight 16).
    expect(weighted.descriptors[2]).toBeCloseTo((1 * 8 + 3 * 16) / 24, 6);
    expect(weighted.descriptors[3]).toBeCloseTo((1 * 8 + 10 * 16) / 24, 6);
  });

  it('takes every cell wholly in the body, or draws the same cells every time when asked for fewer', () => {
    const d = 2;
    const count = 30;
    // Each descriptor row says which cell it is.
    const field = {
      grid: [2, 3, 5] as [number, number, number],
      descriptors: Float32Array.from({ length: count * d }, (_, i) => Math.floor(i / d)),
      centres: Float32Array.from({ length: count * 3 }, (_, i) => i),
      touchesBody: new Uint8Array(count).fill(1),
      inBody: Uint8Array.from({ length: count }, (_, c) => (c % 3 === 0 ? 1 : 0)),
      windowCells: [],
    };
    const all = drawScanReference(field, d);
    expect(all.count).toBe(10);
    expect(Array.from(all.rows.filter((_, i) => i % d === 0))).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    expect(drawScanReference(field, d, SCAN_REFERENCE_ROWS)).toEqual(all);
    const drawn = drawScanReference(field, d, 7);
    expect(drawn.count).toBe(7);
    const seen = new Set<number>();
    for (let j = 0; j < drawn.count; j++) {
      const cell = drawn.rows[j * d]!;
      expect(field.inBody[cell]).toBe(1);
      expect(Array.from(drawn.positions.subarray(j * 3, j * 3 + 3))).toEqual([3 * cell, 3 * cell + 1, 3 * cell + 2]);
      seen.add(cell);
    }
    expect(seen.size).toBe(7);
    expect(drawScanReference(field, d, 7)).toEqual(drawn);
    // No cell wholly in the body: an empty reference.
    expect(drawScanReference({ ...field, inBody: new Uint8Array(count) }, d).count).toBe(0);
  });

  it('scores a cell by its distance to the nearest row, the nearer of bank and scan for both, 0 without body or row', () => {
    const reference = { rows: Float32Array.from([0, 0, 3, 4]), positions: new Float32Array(6), count: 2 };
    const descriptors = Float32Array.from([3, 4, 6, 8, 1, 1, 9, 9]);
    const nearest = [0, 1, -1, 1];
    const touches = Uint8Array.from([1, 1, 1, 0]);
    expect(Array.from(cellScores(descriptors, nearest, reference, touches, 2, null))).toEqual([5, 5, 0, 0]);
    expect(Array.from(cellScores(descriptors, nearest, reference, touches, 2, [7, 2, 1, 1]))).toEqual([5, 2, 0, 0]);
  });
});
