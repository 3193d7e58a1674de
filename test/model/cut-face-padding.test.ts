// Scans mirrored past the faces where the field of view cut the body: which faces, the mirror itself,
// the crop back, the reference cells kept inside, and what it changes in a whole prediction (the voxels of
// a cut face are seen from window centres; faces bordering air stay as they were).
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { identityAffine, type Shape3 } from '../../src/data/geometry/volume';
import { preprocessCt, resolvePreprocessOptions } from '../../src/data/preprocess/preprocess';
import { cropPadding, cutFacePadding, cutFacesOf, hasPadding, padFaces, paddedShape, type FacePadding } from '../../src/model/cut-face-padding';
import { predictImageOf, predictModelMap, predictPreprocessed, type WindowModel } from '../../src/model/predict';
import { keepReferenceInside, type CellField } from '../../src/model/scan-reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('cut-face padding', () => {
  it('finds the faces where the body box reaches the scan\'s face, and pads them by half a window, a multiple of the stride, less than the axis', () => {
    const original = [40, 30, 30];
    // Cut above and below (D), air on both sides in H, air before and cut after in W.
    const faces = cutFacesOf({ crop: { start: [0, 5, 4], shape: [40, 20, 26] }, originalShape: original });
    expect(faces).toEqual({ before: [true, false, false], after: [true, false, true] });
    expect(cutFacePadding(faces, [40, 20, 26], [32, 32, 32], [2, 2, 2])).toEqual({ before: [16, 0, 0], after: [16, 0, 16] });
    // An odd half window rounds down to the stride; a short axis limits the mirror to its length less one.
    expect(cutFacePadding(faces, [40, 20, 26], [18, 18, 18], [2, 2, 2])).toEqual({ before: [8, 0, 0], after: [8, 0, 8] });
    expect(cutFacePadding(faces, [5, 20, 26], [32, 32, 32], [2, 2, 2])).toEqual({ before: [4, 0, 0], after: [4, 0, 16] });
    const inside = cutFacesOf({ crop: { start: [1, 1, 1], shape: [38, 28, 28] }, originalShape: original });
    expect(hasPadding(cutFacePadding(inside, [38, 28, 28], [32, 32, 32]))).toBe(false);
  });

  it('mirrors about the end voxels, a body mask in its own type, and crops back to the scan', () => {
    const shape: Shape3 = [3, 2, 4];
    const data = Float32Array.from({ length: 24 }, (_, i) => i + 1);
    const p: FacePadding = { before: [2, 0, 1], after: [1, 1, 0] };
    const padded = padFaces(data, shape, p);
    const [PD, PH, PW] = paddedShape(shape, p);
    expect([PD, PH, PW]).toEqual([6, 3, 5]);
    const at = (a: Float32Array, d: number, h: number, w: number, H: number, W: number) => a[(d * H + h) * W + w]!;
    for (let d = 0; d < PD; d++) {
      for (let h = 0; h < PH; h++) {
        for (let w = 0; w < PW; w++) {
          // Padded index -> scan index: -1 -> 1, -2 -> 2, n -> n - 2.
          const m = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
          expect(at(padded, d, h, w, PH, PW)).toBe(at(data, m(d - 2, 3), m(h, 2), m(w - 1, 4), 2, 4));
        }
      }
    }
    expect(Array.from(cropPadding(padded, shape, p))).toEqual(Array.from(data));
    // A body mask (one byte a voxel) is mirrored alike and stays bytes.
    const mask = padFaces(Uint8Array.from(data), shape, p);
    expect(mask).toBeInstanceOf(Uint8Array);
    expect(Array.from(mask)).toEqual(Array.from(padded));
    expect(Array.from(cropPadding(Float32Array.from(mask), shape, p))).toEqual(Array.from(data));
    // A subclass of Uint8Array (a Node Buffer is one) gives a plain Uint8Array: its constructor is not called.
    class Bytes extends Uint8Array {}
    const fromSubclass = padFaces(Bytes.from(data) as Uint8Array, shape, p);
    expect(fromSubclass.constructor).toBe(Uint8Array);
    expect(Array.from(fromSubclass)).toEqual(Array.from(padded));
  });

  it('keeps the mirrored cells, and a cell holding the scan\'s end and its mirror, out of the reference', () => {
    // A 5-voxel axis padded 2 and 2, stride 2: cells [0, 2) padding, [2, 4) scan, 4 the scan's last voxel and a mirrored one.
    const grid: Shape3 = [5, 1, 1];
    const field = { grid, inBody: new Uint8Array(5).fill(1) } as unknown as CellField;
    keepReferenceInside(field, [2, 1, 1], [9, 1, 1], { before: [2, 0, 0], after: [2, 0, 0] });
    expect(Array.from(field.inBody)).toEqual([0, 1, 1, 0, 0]);
    expect(() => keepReferenceInside(field, [2, 1, 1], [9, 1, 1], { before: [1, 0, 0], after: [2, 0, 0] })).toThrow(/not a multiple of the stride/);
  });
});

/** A stand-in whose score is where a voxel sits in its window along D: 0 at the centre, 1 at the border. */
function borderModel(window: Shape3, seen: { origin: number[]; scanShape: number[] }[]): WindowModel {
  const [D, H, W] = window;
  const one = new Float32Array(D * H * W);
  for (let d = 0; d < D; d++) one.fill(Math.abs(d + 0.5 - D / 2) / (D / 2), d * H * W, (d + 1) * H * W);
  return {
    windowShape: window,
    preprocess: resolvePreprocessOptions({ targetSpacing: [2, 2, 2], clahe: false }),
    scoreWindow(image, positions) {
      for (const p of positions!) seen.push({ origin: [...p.origin], scanShape: [...p.scanShape] });
      const n = image.shape[0]!;
      const out = new Float32Array(n * one.length);
      for (let i = 0; i < n; i++) out.set(one, i * one.length);
      return g.fromArray(image.runtime, out, [n, D, H, W, 1]);
    },
  };
}

describe('prediction past cut faces', () => {
  it('scores the voxels of a cut face from window centres, in the scan\'s own frame, and leaves the other faces as they were', async () => {
    // A slab of soft tissue filling the scan along D (cut above and below) with air around it in H and W.
    const shape: Shape3 = [40, 24, 24];
    const ct = new Int16Array(40 * 24 * 24).fill(-1000);
    for (let d = 0; d < 40; d++) for (let h = 4; h < 20; h++) for (let w = 4; w < 20; w++) ct[(d * 24 + h) * 24 + w] = 40;
    const scan = preprocessCt({ data: ct, shape, spacing: [2, 2, 2], affine: identityAffine() }, 'slab', { targetSpacing: [2, 2, 2], clahe: false });
    expect(scan.image.shape).toEqual([40, 16, 16]);
    const window: Shape3 = [16, 16, 16];
    const seen: { origin: number[]; scanShape: number[] }[] = [];
    const padded = (await predictModelMap(rt, borderModel(window, seen), scan)).map;
    const plain = (await predictPreprocessed(rt, borderModel(window, []), { data: scan.image.data, shape: scan.image.shape })).map;
    // predictModelMap is predictPreprocessed told the scan's cut faces (and the map smoothed, here not at all).
    expect(Array.from((await predictPreprocessed(rt, borderModel(window, []), predictImageOf(scan))).map)).toEqual(Array.from(padded));
    // The middle of each slice: at a slice's rim the blending weights of all windows meet their floor
    // (MIN_WEIGHT), so there the windows count alike whatever their placement along D.
    const plane = (map: Float32Array, d: number) => Float32Array.from({ length: 64 }, (_, i) => map[d * 256 + (4 + (i >> 3)) * 16 + 4 + (i & 7)]!);
    const mean = (v: Float32Array) => v.reduce((a, x) => a + x, 0) / v.length;
    // Without padding the first and last slices are only ever at a window's border; with it, every slice
    // lies within a quarter window of some window's centre (overlap 0.5), as the inner slices do without it.
    for (const d of [0, 39]) {
      expect(mean(plane(plain, d))).toBeGreaterThan(0.85);
      expect(mean(plane(padded, d))).toBeLessThan(0.1);
    }
    for (let d = 0; d < 40; d++) expect(mean(plane(padded, d)), `slice ${d}`).toBeLessThan(0.5 + 1e-3);
    for (let d = 8; d < 32; d++) expect(mean(plane(plain, d)), `slice ${d}`).toBeLessThan(0.5 + 1e-3);
    // Windows of the padded image are placed from 8 voxels before the scan; positions are the scan's.
    expect(Math.min(...seen.map((s) => s.origin[0]!))).toBe(-8);
    expect(Math.max(...seen.map((s) => s.origin[0]!))).toBe(40 + 8 - 16);
    expect(seen.every((s) => s.scanShape.join() === '40,16,16' && s.origin[1] === 0 && s.origin[2] === 0)).toBe(true);
  });
});
