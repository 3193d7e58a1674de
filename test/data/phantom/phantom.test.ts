// Synthetic phantoms: deterministic per seed, anatomically plausible HU, every lesion kind present
// inside its organ, readable by nifti-reader-js.
import * as nifti from 'nifti-reader-js';
import { describe, expect, it } from 'vitest';
import { orientationCode } from '../../../src/data/geometry/volume';
import { encodeNifti } from '../../../src/data/io/nifti';
import { generatePhantomCase, phantomLesionKinds } from '../../../src/data/phantom/cases';
import { Tissue } from '../../../src/data/phantom/canvas';
import { HELD_OUT_LESION_KINDS, LESION_KINDS, lesionKindLabel, TRAINING_LESION_KINDS } from '../../../src/data/phantom/lesions';
import { generatePhantom } from '../../../src/data/phantom/phantom';

const SIZE = 64; // small grids keep the suite fast; the anatomy scales with the grid

describe('phantoms', () => {
  const all = generatePhantom({ seed: 11, size: SIZE, lesions: LESION_KINDS });

  it('is deterministic per seed and differs between seeds', () => {
    const again = generatePhantom({ seed: 11, size: SIZE, lesions: LESION_KINDS });
    expect(encodeNifti(again.ct)).toEqual(encodeNifti(all.ct));
    expect(encodeNifti(again.lesion)).toEqual(encodeNifti(all.lesion));
    const other = generatePhantom({ seed: 12, size: SIZE });
    expect(other.ct.shape.join() === all.ct.shape.join() && other.ct.data.every((v, i) => v === all.ct.data[i])).toBe(false);
  });

  it('places every lesion kind, with a non-empty mask inside its organ', () => {
    expect(all.lesions.map((l) => l.kind)).toEqual([...LESION_KINDS]);
    const organs: Record<string, number[]> = {
      liver_hypodense: [Tissue.liver],
      liver_hyperdense: [Tissue.liver],
      lung_nodule_solid: [Tissue.lung, Tissue.lungVessel],
      lung_nodule_ground_glass: [Tissue.lung, Tissue.lungVessel],
      kidney_cyst: [Tissue.kidney],
      bone_lesion: [Tissue.marrow, Tissue.cortical],
      splenic_infarct: [Tissue.spleen],
    };
    for (const kind of LESION_KINDS) {
      const label = lesionKindLabel(kind);
      let voxels = 0;
      let outside = 0;
      for (let i = 0; i < all.lesionKinds.data.length; i++) {
        if (all.lesionKinds.data[i] !== label) continue;
        voxels++;
        if (!organs[kind]!.includes(all.tissues[i]!)) outside++;
        expect(all.lesion.data[i]).toBe(1);
      }
      expect(voxels, kind).toBeGreaterThan(0);
      expect(outside, kind).toBe(0);
    }
    expect(HELD_OUT_LESION_KINDS).toEqual(['splenic_infarct']);
    expect(TRAINING_LESION_KINDS).not.toContain('splenic_infarct');
    expect(TRAINING_LESION_KINDS.length + HELD_OUT_LESION_KINDS.length).toBe(LESION_KINDS.length);
  });

  it('has CT-like intensities per tissue and LPS geometry', () => {
    const mean = (label: number) => {
      let s = 0;
      let n = 0;
      for (let i = 0; i < all.tissues.length; i++) if (all.tissues[i] === label && !all.lesion.data[i]) (s += all.ct.data[i]!), n++;
      return { hu: s / n, n };
    };
    expect(mean(Tissue.air).hu).toBeLessThan(-950);
    expect(mean(Tissue.lung).hu).toBeLessThan(-650);
    expect(mean(Tissue.fat).hu).toBeLessThan(-40);
    expect(mean(Tissue.liver).hu).toBeGreaterThan(70);
    expect(mean(Tissue.liver).hu).toBeLessThan(150);
    expect(mean(Tissue.marrow).hu + mean(Tissue.cortical).hu).toBeGreaterThan(500);
    for (const label of [Tissue.heart, Tissue.kidney, Tissue.spleen, Tissue.muscle, Tissue.lungVessel, Tissue.aorta]) expect(mean(label).n, `tissue ${label}`).toBeGreaterThan(0);
    // Noise: neighbouring air voxels differ.
    expect(new Set(all.ct.data.slice(0, 200)).size).toBeGreaterThan(5);
    expect(orientationCode(all.ct.affine)).toBe('SPL'); // (D, H, W) columns; the file's (i, j, k) reads LPS
  });

  it('is read back by nifti-reader-js with the same voxels and geometry', () => {
    let buffer: ArrayBuffer = encodeNifti(all.ct, { datatype: 'int16' }).slice().buffer;
    buffer = nifti.decompress(buffer) as ArrayBuffer;
    const header = nifti.readHeader(buffer);
    const [D, H, W] = all.ct.shape;
    expect(header.dims.slice(0, 4)).toEqual([3, W, H, D]);
    expect(Array.from(new Int16Array(nifti.readImage(header, buffer)))).toEqual(Array.from(all.ct.data));
    expect(header.affine[0]![0]).toBeCloseTo(-all.ct.spacing[2], 4);
    expect(header.affine[1]![1]).toBeCloseTo(-all.ct.spacing[1], 4);
    expect(header.affine[2]![2]).toBeCloseTo(all.ct.spacing[0], 4);
    let maskBuffer: ArrayBuffer = encodeNifti(all.lesion).slice().buffer;
    maskBuffer = nifti.decompress(maskBuffer) as ArrayBuffer;
    const maskHeader = nifti.readHeader(maskBuffer);
    expect(maskHeader.datatypeCode).toBe(2);
    expect(Array.from(new Uint8Array(nifti.readImage(maskHeader, maskBuffer)))).toEqual(Array.from(all.lesion.data));
  });

  it('gives on request the same scan without its lesions, and the scan itself unchanged', () => {
    const twin = generatePhantom({ seed: 11, size: SIZE, lesions: LESION_KINDS, withoutLesions: true });
    expect(all.ctWithoutLesions).toBeUndefined();
    expect(encodeNifti(twin.ct)).toEqual(encodeNifti(all.ct));
    const without = twin.ctWithoutLesions!;
    expect(without.shape).toEqual(all.ct.shape);
    expect(without.affine).toEqual(all.ct.affine);
    // Same anatomy and noise: any difference lies within a few voxels of a lesion (the scanner-like blur
    // carries a lesion's edge that far), and every lesion kind changes its own voxels.
    const nearLesion = dilateChebyshev(all.lesion.data, all.ct.shape, 4);
    let changedFar = 0;
    for (let i = 0; i < without.data.length; i++) if (!nearLesion[i] && Math.abs(without.data[i]! - all.ct.data[i]!) > 1) changedFar++;
    expect(changedFar).toBe(0);
    for (const kind of LESION_KINDS) {
      const label = lesionKindLabel(kind);
      let sum = 0;
      let n = 0;
      for (let i = 0; i < without.data.length; i++) if (all.lesionKinds.data[i] === label) (sum += Math.abs(without.data[i]! - all.ct.data[i]!)), n++;
      expect(sum / n, kind).toBeGreaterThan(10);
    }
  });

  it('rotates lesion kinds through a case set, and healthy cases have none', () => {
    const seen = new Set(Array.from({ length: LESION_KINDS.length }, (_, i) => phantomLesionKinds({ seed: 3 }, i)).flat());
    expect(seen).toEqual(new Set(LESION_KINDS));
    expect(phantomLesionKinds({ seed: 3, kinds: TRAINING_LESION_KINDS }, 6)).not.toContain('splenic_infarct');
    const healthy = generatePhantomCase({ seed: 3, healthy: true, size: 40 }, 0);
    expect(healthy.lesions).toEqual([]);
    expect(healthy.lesion.data.every((v) => v === 0)).toBe(true);
  });
});

/** Voxels within `radius` voxels (Chebyshev distance) of a non-zero voxel: a max filter along each axis. */
function dilateChebyshev(mask: Uint8Array, shape: readonly number[], radius: number): Uint8Array {
  let current = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  const strides = [shape[1]! * shape[2]!, shape[2]!, 1];
  for (let axis = 0; axis < 3; axis++) {
    const next = new Uint8Array(current.length);
    const stride = strides[axis]!;
    for (let i = 0; i < current.length; i++) {
      if (!current[i]) continue;
      const position = Math.floor(i / stride) % shape[axis]!;
      for (let o = -radius; o <= radius; o++) {
        const p = position + o;
        if (p >= 0 && p < shape[axis]!) next[i + o * stride] = 1;
      }
    }
    current = next;
  }
  return current;
}
