// The scan as a knn model's reference, on the CPU: where each window's pooled cells lie, which may be
// drawn, the draw itself, and each cell's score from its nearest row (the GPU search is in
// test/graph/nearest.test.ts, the whole two-pass prediction in test/model/predict.test.ts).
import { describe, expect, it } from 'vitest';
import { SCAN_REFERENCE_ROWS } from '../../src/model/config';
import { cellScores, drawScanReference, windowCells } from '../../src/model/scan-reference';

describe('scan reference', () => {
  it('places cell centres in mm and tells cells touching the body from cells wholly in it', () => {
    // A 4x4x6 scan at 2x3x1.5 mm whose body is the voxels with w >= 3; a window of 4^3 at w = -1 hangs outside.
    const shape = [4, 4, 6] as [number, number, number];
    const body = Uint8Array.from({ length: 96 }, (_, i) => (i % 6 >= 3 ? 1 : 0));
    const cells = windowCells([0, 0, -1], [4, 4, 4], [2, 2, 2], shape, [2, 3, 1.5], body);
    expect(cells.centres.length).toBe(8 * 3);
    // Cell (0, 0, 0) covers voxels d 0-1, h 0-1, w -1-0: centre (0.5 * 2, 0.5 * 3, -0.5 * 1.5) mm.
    expect(Array.from(cells.centres.subarray(0, 3))).toEqual([1, 1.5, -0.75]);
    // Cell (1, 1, 1) covers w 1-2 (w 2 not body, w 1 not body): touches nothing. Cells at w 1-2 never touch.
    expect(Array.from(cells.touchesBody)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const shifted = windowCells([0, 0, 2], [4, 4, 4], [2, 2, 2], shape, [2, 3, 1.5], body);
    // Cells cover w 2-3 (half body) and w 4-5 (all body).
    expect(Array.from(shifted.touchesBody)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(shifted.inBody)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('draws the same cells every time, only cells wholly in the body, each at most once', () => {
    const d = 2;
    const windows = 5;
    const cells = Array.from({ length: windows }, (_, w) => ({
      centres: Float32Array.from({ length: 30 }, (_, i) => w * 100 + i),
      touchesBody: new Uint8Array(10).fill(1),
      inBody: Uint8Array.from({ length: 10 }, (_, c) => ((c + w) % 3 === 0 ? 1 : 0)),
    }));
    // Each descriptor row says which window and cell it is.
    const descriptors = Array.from({ length: windows }, (_, w) => Float32Array.from({ length: 10 * d }, (_, i) => (i % d === 0 ? w : Math.floor(i / d))));
    const inBody = cells.reduce((n, c) => n + c.inBody.reduce((a, b) => a + b, 0), 0);
    const drawn = drawScanReference(descriptors, cells, d, 7);
    expect(drawn.count).toBe(7);
    const seen = new Set<string>();
    for (let j = 0; j < drawn.count; j++) {
      const [w, cell] = [drawn.rows[j * d]!, drawn.rows[j * d + 1]!];
      expect(cells[w]!.inBody[cell]).toBe(1);
      expect(Array.from(drawn.positions.subarray(j * 3, j * 3 + 3))).toEqual(Array.from(cells[w]!.centres.subarray(cell * 3, cell * 3 + 3)));
      seen.add(`${w},${cell}`);
    }
    expect(seen.size).toBe(7);
    expect(drawScanReference(descriptors, cells, d, 7)).toEqual(drawn);
    // Asked for more than there are: all of them, once each.
    const all = drawScanReference(descriptors, cells, d, SCAN_REFERENCE_ROWS);
    expect(all.count).toBe(inBody);
    // No cell wholly in the body: an empty reference.
    expect(drawScanReference(descriptors, cells.map((c) => ({ ...c, inBody: new Uint8Array(10) })), d).count).toBe(0);
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
