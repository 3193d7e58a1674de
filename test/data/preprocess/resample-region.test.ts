// Resampling a box of a volume in place gives what resampling the copied-out crop gives, and a run of
// output slices is that part of the whole output: preprocessing reads the body box without copying
// it, and the map is put back onto a large scan's grid a slab at a time.
import { describe, expect, it } from 'vitest';
import { cropVolume } from '../../../src/data/preprocess/body';
import { resampleNearest, resampleTrilinear, sameExtentMap } from '../../../src/data/preprocess/resample';
import { Rng } from '../../../src/data/rng';
import type { Shape3 } from '../../../src/data/geometry/volume';

describe('resampling a region', () => {
  const rng = new Rng(12);
  const shape: Shape3 = [9, 13, 11];
  const data = Float32Array.from({ length: 9 * 13 * 11 }, () => rng.normal());
  const box = { start: [2, 3, 1] as Shape3, shape: [5, 8, 9] as Shape3 };
  const cropped = cropVolume({ data, shape, spacing: [1, 1, 1], affine: new Float64Array(16) }, box);

  for (const outShape of [[3, 4, 5], [11, 17, 20]] as Shape3[]) {
    it(`reads a box in place as its copy, down and up (${outShape.join('x')})`, () => {
      const map = sameExtentMap(box.shape, outShape);
      expect(Array.from(resampleTrilinear(data, shape, outShape, map, { box }))).toEqual(Array.from(resampleTrilinear(cropped.data, box.shape, outShape, map)));
      expect(Array.from(resampleNearest(data, shape, outShape, map, { box }))).toEqual(Array.from(resampleNearest(cropped.data, box.shape, outShape, map)));
    });
  }

  it('gives output slices [from, to) as that part of the whole output', () => {
    const outShape: Shape3 = [14, 6, 7];
    const map = sameExtentMap(shape, outShape);
    const whole = resampleTrilinear(data, shape, outShape, map);
    const area = outShape[1] * outShape[2];
    for (const [from, to] of [[0, 1], [3, 9], [13, 14], [5, 5]] as [number, number][]) {
      expect(Array.from(resampleTrilinear(data, shape, outShape, map, { slices: [from, to] }))).toEqual(Array.from(whole.subarray(from * area, to * area)));
    }
    expect(() => resampleTrilinear(data, shape, outShape, map, { slices: [3, 15] })).toThrow(/slices 3\.\.15 outside 0\.\.14/);
  });
});
