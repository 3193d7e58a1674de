// The anomaly overlay: the lesion outline in green, the highest scores in red to yellow over grey CT.
import { describe, expect, it } from 'vitest';
import { identityAffine, type Shape3 } from '../../../src/data/geometry/volume';
import { renderOverlay } from '../../../src/data/render/overlay';
import { n, shape, syntheticCase } from '../../helpers/eval-case';

describe('overlay', () => {
  it('draws the lesion outline and colours the highest scores', () => {
    const c = syntheticCase('a');
    const ct = { data: new Int16Array(n).fill(40), shape, spacing: [1, 1, 1] as Shape3, affine: identityAffine() };
    const picture = renderOverlay(ct, Float32Array.from(c.lesion), { lesion: c.lesion, body: c.body, quantiles: [0.5, 0.99] });
    const colours = new Set<string>();
    for (let p = 0; p < picture.pixels.length; p += 3) colours.add(picture.pixels.subarray(p, p + 3).join(','));
    expect(colours.has('40,255,80')).toBe(true); // outline
    const heat = [...colours].map((rgb) => rgb.split(',').map(Number)).filter(([r, , b]) => r! - b! > 100);
    expect(heat.length).toBeGreaterThan(0); // grey CT has r = b; the overlay is red to yellow
  });
});
