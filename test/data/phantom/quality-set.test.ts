// The quality benchmark's phantom design: every kind equally often, the held-out kind in more than a
// third of the cases, three kinds per case, diameters spread over 8-40 mm within each kind, and
// lesions that really are placed at the asked size.
import { describe, expect, it } from 'vitest';
import { HELD_OUT_LESION_KINDS, LESION_KINDS } from '../../../src/data/phantom/lesions';
import { diameterOnLadder, generateQualityCase, QUALITY_DIAMETER_MM, QUALITY_SET_DEFAULTS, qualityCaseLesions, qualityCaseSeed } from '../../../src/data/phantom/quality-set';

describe('quality set', () => {
  const cases = Array.from({ length: QUALITY_SET_DEFAULTS.cases }, (_, i) => qualityCaseLesions(i));

  it('shows every kind 12 times, three different kinds a case, the held-out kind in 12 of 28 cases', () => {
    expect(QUALITY_SET_DEFAULTS.cases).toBe(28);
    for (const lesions of cases) expect(new Set(lesions.map((l) => l.kind)).size).toBe(3);
    for (const kind of LESION_KINDS) expect(cases.flat().filter((l) => l.kind === kind).length, kind).toBe(12);
    const heldOut = cases.filter((lesions) => lesions.some((l) => HELD_OUT_LESION_KINDS.includes(l.kind))).length;
    expect(heldOut).toBe(12);
    expect(heldOut / cases.length).toBeGreaterThanOrEqual(1 / 3);
  });

  it('spreads each kind over the diameter range: one in each of four equal bands at least twice', () => {
    const [lo, hi] = QUALITY_DIAMETER_MM;
    for (const kind of LESION_KINDS) {
      const diameters = cases.flat().filter((l) => l.kind === kind).map((l) => l.diameterMm!);
      for (const d of diameters) expect(d).toBeGreaterThanOrEqual(lo), expect(d).toBeLessThanOrEqual(hi);
      for (let band = 0; band < 4; band++) {
        const inBand = diameters.filter((d) => d >= lo + (band * (hi - lo)) / 4 && d < lo + ((band + 1) * (hi - lo)) / 4).length;
        expect(inBand, `${kind} band ${band}`).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it("spreads even a short run of the ladder (the demo's six lesions) over three of the four bands", () => {
    const [lo, hi] = QUALITY_DIAMETER_MM;
    const rungs = Array.from({ length: 6 }, (_, k) => diameterOnLadder(k));
    for (const d of rungs) expect(d).toBeGreaterThanOrEqual(lo), expect(d).toBeLessThanOrEqual(hi);
    const bands = new Set(rungs.map((d) => Math.min(3, Math.floor((4 * (d - lo)) / (hi - lo)))));
    expect(bands.size).toBeGreaterThanOrEqual(3);
  });

  it('gives fixed, distinct seeds per split and case, and places the lesions it asks for', () => {
    expect(qualityCaseSeed('test', 3)).toBe(qualityCaseSeed('test', 3));
    expect(new Set([qualityCaseSeed('test', 0), qualityCaseSeed('healthy', 0), qualityCaseSeed('train', 0), qualityCaseSeed('test', 1)]).size).toBe(4);
    const phantom = generateQualityCase('test', 1, 48);
    expect(phantom.lesions.map((l) => l.kind)).toEqual(qualityCaseLesions(1).map((l) => l.kind));
    // The radius drawn is the one asked for (shrunk only if the lesion had to be retried to fit its organ).
    phantom.lesions.forEach((l, i) => {
      expect(l.radiusMm).toBeLessThanOrEqual(qualityCaseLesions(1)[i]!.diameterMm! / 2 + 0.01);
      expect(l.radiusMm).toBeGreaterThan(0.4 * qualityCaseLesions(1)[i]!.diameterMm! / 2);
      expect(l.voxels).toBeGreaterThan(0);
    });
    expect(generateQualityCase('healthy', 0, 48).lesions).toEqual([]);
    // A test case's scan without its lesions: the same seed and grid, no lesions, and a different scan
    // where the lesions were (the phantom's tests check that nothing else changes).
    expect(qualityCaseSeed('test-source', 1)).toBe(qualityCaseSeed('test', 1));
    const source = generateQualityCase('test-source', 1, 48);
    expect(source.lesions).toEqual([]);
    expect(source.lesion.data.every((v) => v === 0) && source.lesionKinds.data.every((v) => v === 0)).toBe(true);
    expect(source.ct.shape).toEqual(phantom.ct.shape);
    expect(source.ct.affine).toEqual(phantom.ct.affine);
    const differs = (i: number) => Math.abs(source.ct.data[i]! - phantom.ct.data[i]!) > 1;
    let inside = 0;
    for (let i = 0; i < source.ct.data.length; i++) if (phantom.lesion.data[i] && differs(i)) inside++;
    expect(inside).toBeGreaterThan(0.5 * phantom.lesions.reduce((n, l) => n + l.voxels, 0));
    expect(generateQualityCase('train', 6, 48).lesions.every((l) => !l.heldOut)).toBe(true);
  });
});
