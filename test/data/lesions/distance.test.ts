// The anisotropic Euclidean distance transform against brute force, with and without the grid's
// outside counting as a site.
import { describe, expect, it } from 'vitest';
import { distanceTransformMm } from '../../../src/data/lesions/distance';
import { Rng } from '../../../src/data/rng';
import type { Shape3, Vec3 } from '../../../src/data/geometry/volume';

function bruteForce(sites: Uint8Array, shape: Shape3, spacing: Vec3, outside: boolean): Float64Array {
  const [D, H, W] = shape;
  const out = new Float64Array(D * H * W);
  let i = 0;
  for (let d = 0; d < D; d++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++, i++) {
        let best = Infinity;
        let j = 0;
        for (let d2 = 0; d2 < D; d2++)
          for (let h2 = 0; h2 < H; h2++)
            for (let w2 = 0; w2 < W; w2++, j++) {
              if (sites[j]) best = Math.min(best, Math.hypot((d - d2) * spacing[0], (h - h2) * spacing[1], (w - w2) * spacing[2]));
            }
        if (outside) {
          const p = [d, h, w];
          for (let a = 0; a < 3; a++) best = Math.min(best, (p[a]! + 1) * spacing[a]!, (shape[a]! - p[a]!) * spacing[a]!);
        }
        out[i] = best;
      }
  return out;
}

describe('distanceTransformMm', () => {
  const shape: Shape3 = [5, 6, 7];
  const spacing: Vec3 = [2.5, 1, 1.5];
  const rng = new Rng(3);
  for (const density of [0.03, 0.2]) {
    for (const outside of [false, true]) {
      it(`matches brute force (site density ${density}, outside ${outside ? 'is' : 'is not'} a site)`, () => {
        const sites = new Uint8Array(5 * 6 * 7).map(() => (rng.bool(density) ? 1 : 0));
        sites[17] = 1;
        const got = distanceTransformMm(sites, shape, spacing, outside);
        const want = bruteForce(sites, shape, spacing, outside);
        for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
      });
    }
  }

  it('gives Infinity with no site at all, and the distance to the edge with the outside as one', () => {
    const none = new Uint8Array(5 * 6 * 7);
    expect(distanceTransformMm(none, shape, spacing).every((v) => v === Infinity)).toBe(true);
    const edge = distanceTransformMm(none, shape, spacing, true);
    // Voxel (2, 2, 3): 3 * 2.5 = 7.5 mm to either end along D, 3 mm and 4 mm along H, 6 mm along W.
    expect(edge[(2 * 6 + 2) * 7 + 3]).toBeCloseTo(3, 5);
  });
});
