// Synthetic lesions inserted into a synthetic CT (soft-tissue block with a bone slab and an air pocket,
// anisotropic voxels): reproducible per seed, only in soft tissue, the stated HU shift and size, no
// overlap, and every voxel away from the lesions untouched.
import { describe, expect, it } from 'vitest';
import { labelComponents } from '../../../src/data/preprocess/components';
import { insertLesions, LESION_RULES, lesionCaseSeed, type InsertedLesion } from '../../../src/data/lesions/insert';
import { Region, syntheticCt } from '../../helpers/synthetic-ct';
import type { Shape3, Vec3 } from '../../../src/data/geometry/volume';

const shape: Shape3 = [32, 64, 72];
const spacing: Vec3 = [2.5, 1.5, 1.25];
const { ct, labels } = syntheticCt(shape, spacing);
const [, H, W] = shape;

const first = insertLesions(ct, { seed: 1, caseId: 'neck/a', maxLesions: 3 });
const again = insertLesions(ct, { seed: 1, caseId: 'neck/a', maxLesions: 3 });
const other = insertLesions(ct, { seed: 2, caseId: 'neck/a', maxLesions: 3 });

/** Byte-for-byte equality of two typed arrays (Buffer is Node-only; this suite also runs in Chromium). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

const coords = (i: number): Vec3 => [Math.floor(i / (W * H)), Math.floor(i / W) % H, i % W];

/** The mask's connected components, each matched to the lesion whose centre it holds. */
function lesionVoxels(result: typeof first): Map<InsertedLesion, number[]> {
  const { labels: components, sizes } = labelComponents(result.mask.data, shape, 26);
  expect(sizes.length).toBe(result.lesions.length);
  const byLesion = new Map<InsertedLesion, number[]>();
  for (const lesion of result.lesions) {
    const [d, h, w] = lesion.centreVoxel;
    const label = components[(d * H + h) * W + w]!;
    expect(label).toBeGreaterThan(0);
    const voxels: number[] = [];
    for (let i = 0; i < components.length; i++) if (components[i] === label) voxels.push(i);
    byLesion.set(lesion, voxels);
  }
  return byLesion;
}

describe('insertLesions', () => {
  it('places lesions and gives the same bytes for the same seed and case, different ones otherwise', () => {
    // Seed 1 happens to draw two lesions here, so overlap and separation are tested on a real pair.
    expect(first.lesions.length).toBe(2);
    expect(first.lesions.length + first.skipped.length).toBe(first.requested);
    expect(first.requested).toBeGreaterThanOrEqual(1);
    expect(first.requested).toBeLessThanOrEqual(3);
    expect(sameBytes(again.ct.data, first.ct.data)).toBe(true);
    expect(sameBytes(again.mask.data, first.mask.data)).toBe(true);
    expect(again.lesions).toEqual(first.lesions);
    expect(sameBytes(other.ct.data, first.ct.data)).toBe(false);
    expect(lesionCaseSeed(1, 'neck/a')).not.toBe(lesionCaseSeed(1, 'neck/b'));
    expect(lesionCaseSeed(1, 'neck/a')).not.toBe(lesionCaseSeed(2, 'neck/a'));
    // The input is left alone, and the output keeps the input's voxel type and grid.
    expect(first.ct.data).toBeInstanceOf(Int16Array);
    expect(first.ct.shape).toEqual(ct.shape);
    expect(Array.from(first.ct.affine)).toEqual(Array.from(ct.affine));
    expect(first.ct.data).not.toBe(ct.data);
  });

  for (const [name, result] of [['seed 1', first], ['seed 2', other]] as const) {
    describe(name, () => {
      // Computed inside the first test that asks (expect() may only run inside a test).
      let cached: Map<InsertedLesion, number[]> | undefined;
      const voxels = () => (cached ??= lesionVoxels(result));

      it('puts every lesion voxel in soft tissue, never in bone, air or outside the body', () => {
        let total = 0;
        for (let i = 0; i < result.mask.data.length; i++) {
          if (!result.mask.data[i]) continue;
          total++;
          expect(labels[i]).toBe(Region.soft);
        }
        expect(total).toBe(result.lesions.reduce((n, l) => n + l.voxels, 0));
        for (const lesion of result.lesions) {
          const [d, h, w] = lesion.centreVoxel;
          expect(labels[(d * H + h) * W + w]).toBe(Region.soft);
          expect(lesion.softFraction).toBeGreaterThanOrEqual(LESION_RULES.minSoftFraction);
        }
        // Bone and air keep every voxel.
        for (let i = 0; i < labels.length; i++) if (labels[i] !== Region.soft) expect(result.ct.data[i]).toBe(ct.data[i]);
      });

      it('changes the mean HU inside each mask by the stated shift, with both signs in range', () => {
        for (const [lesion, list] of voxels()) {
          let change = 0;
          for (const i of list) change += result.ct.data[i]! - ct.data[i]!;
          change /= list.length;
          expect(Math.abs(change - lesion.huShift)).toBeLessThan(1.5);
          expect(lesion.measuredMeanChangeHu).toBeCloseTo(change, 3);
          expect(Math.abs(lesion.huShift)).toBeGreaterThanOrEqual(LESION_RULES.shiftHu[0]);
          expect(Math.abs(lesion.huShift)).toBeLessThanOrEqual(LESION_RULES.shiftHu[1]);
          // The lesion's own texture: its voxels vary more than the block's 10 HU noise alone would.
          let mean = 0;
          for (const i of list) mean += result.ct.data[i]!;
          mean /= list.length;
          let variance = 0;
          for (const i of list) variance += (result.ct.data[i]! - mean) ** 2;
          expect(Math.sqrt(variance / list.length)).toBeGreaterThan(10);
        }
      });

      it('sizes lesions in millimetres on the anisotropic grid: 10-40 mm, axes within ±20 % or so', () => {
        const voxelMm3 = spacing[0] * spacing[1] * spacing[2];
        for (const [lesion, list] of voxels()) {
          expect(lesion.diameterMm).toBeGreaterThanOrEqual(LESION_RULES.diameterMm[0]);
          expect(lesion.diameterMm).toBeLessThanOrEqual(LESION_RULES.diameterMm[1]);
          // The mask's volume matches the ellipsoid's (within voxelisation error).
          const measured = Math.cbrt((6 * list.length * voxelMm3) / Math.PI);
          expect(Math.abs(measured - lesion.diameterMm) / lesion.diameterMm).toBeLessThan(0.12);
          for (const r of lesion.radiiMm) {
            expect(r / (lesion.diameterMm / 2)).toBeGreaterThan(0.7);
            expect(r / (lesion.diameterMm / 2)).toBeLessThan(1.3);
          }
          // Extent along each grid axis, in mm, is no more than the longest axis allows.
          for (let a = 0; a < 3; a++) {
            const along = list.map((i) => coords(i)[a]!);
            const extentMm = (Math.max(...along) - Math.min(...along) + 1) * spacing[a]!;
            expect(extentMm).toBeLessThanOrEqual(2 * Math.max(...lesion.radiiMm) + 2 * spacing[a]!);
          }
        }
      });

      it('keeps masks apart and leaves every voxel far from the lesions unchanged, bit for bit', () => {
        const reach = (l: InsertedLesion) => Math.max(...l.radiiMm) + 2 * l.edgeMm + Math.hypot(...spacing);
        let far = 0;
        for (let i = 0; i < labels.length; i++) {
          const p = coords(i);
          const near = result.lesions.some((l) => Math.hypot(...p.map((c, a) => (c - l.centreVoxel[a]!) * spacing[a]!)) <= reach(l));
          if (!near) {
            far++;
            expect(result.ct.data[i]).toBe(ct.data[i]);
            expect(result.mask.data[i]).toBe(0);
          }
        }
        expect(far).toBeGreaterThan(labels.length / 2);
        // Distinct lesions: their centres are further apart than their masks could touch.
        for (let a = 0; a < result.lesions.length; a++) {
          for (let b = a + 1; b < result.lesions.length; b++) {
            const la = result.lesions[a]!;
            const lb = result.lesions[b]!;
            const distance = Math.hypot(...la.centreVoxel.map((c, k) => (c - lb.centreVoxel[k]!) * spacing[k]!));
            expect(distance).toBeGreaterThan(Math.min(...la.radiiMm) + Math.min(...lb.radiiMm));
          }
        }
      });
    });
  }

  it('places nothing and says why when there is no soft tissue to hold a lesion', () => {
    const empty = { ...ct, data: new Int16Array(ct.data.length).fill(-1024) };
    const none = insertLesions(empty, { seed: 1, caseId: 'air', maxLesions: 2 });
    expect(none.lesions).toEqual([]);
    expect(none.skipped.length).toBe(none.requested);
    expect(none.skipped[0]!.reason).toMatch(/no body/);
    expect(sameBytes(none.ct.data, empty.data)).toBe(true);

    // A body too thin for a 10 mm lesion: a 2-voxel slab of muscle.
    const thin = new Int16Array(ct.data.length).fill(-1024);
    for (let h = 30; h < 32; h++) for (let d = 4; d < 28; d++) for (let w = 8; w < 64; w++) thin[(d * H + h) * W + w] = 40;
    const slab = insertLesions({ ...ct, data: thin }, { seed: 1, caseId: 'slab', maxLesions: 1 });
    expect(slab.lesions).toEqual([]);
    expect(slab.skipped[0]!.reason).toMatch(/no room: 200 positions tried/);
  });
});
