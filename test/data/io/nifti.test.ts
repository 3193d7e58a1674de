// NIfTI reading and writing: round trips for every voxel type, the geometry rules, reading our files
// with nifti-reader-js, and every kind of bad input.
import { gzipSync } from 'fflate';
import * as nifti from 'nifti-reader-js';
import { describe, expect, it } from 'vitest';
import { affineFromRows, affineRows, applyAffine, orientationCode, type Shape3, swapFirstAndThirdAxes, type Volume, type VoxelArray } from '../../../src/data/geometry/volume';
import { checkSameGrid, toMask } from '../../../src/data/geometry/mask-checks';
import { gunzipMembers } from '../../../src/data/io/gunzip';
import { decodeNifti, encodeNifti } from '../../../src/data/io/nifti';
import { NIFTI_DATATYPES, type NiftiDatatype } from '../../../src/data/io/nifti-types';
import { Rng } from '../../../src/data/rng';

const shape: Shape3 = [5, 7, 6];
// A rotated, anisotropic, offset affine whose entries are exact in float32.
const rotated = affineFromRows([
  [0, 0.6, -2.0, -120.5],
  [0, 0.8, 1.5, 33.25],
  [3.0, 0, 0, -400.125],
]);

function randomVolume(type: NiftiDatatype, seed: number): Volume<VoxelArray> {
  const rng = new Rng(seed);
  const info = NIFTI_DATATYPES[type];
  const data = info.make(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < data.length; i++) {
    data[i] = info.integer ? rng.int(Math.max(info.min, -40000), Math.min(info.max, 40000)) : Math.fround(rng.normal() * 1000);
  }
  return { data, shape, spacing: [3, 1, 2.5], affine: rotated };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

function expectAffineClose(a: Float64Array, b: Float64Array, tolerance = 1e-4) {
  for (let i = 0; i < 16; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(tolerance);
}

/** A hand-made header for the bad-input cases: 3-D int16 unless changed. */
function craft(edit: (view: DataView, bytes: Uint8Array) => void, dims = [3, 4, 4, 4], datatype = 4, bits = 16, voxels = 64): Uint8Array {
  const bytes = new Uint8Array(352 + voxels * (bits / 8));
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  [...dims, ...Array(8 - dims.length).fill(1)].forEach((n, i) => view.setInt16(40 + i * 2, n, true));
  view.setInt16(70, datatype, true);
  view.setInt16(72, bits, true);
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((v, i) => view.setFloat32(76 + i * 4, v, true));
  view.setFloat32(108, 352, true);
  bytes.set([0x6e, 0x2b, 0x31, 0], 344);
  edit(view, bytes);
  return bytes;
}

describe('NIfTI round trip', () => {
  for (const type of Object.keys(NIFTI_DATATYPES) as NiftiDatatype[]) {
    it(`keeps ${type} voxels and the affine`, () => {
      const volume = randomVolume(type, type.length * 17);
      for (const gzip of [true, false]) {
        const back = decodeNifti(encodeNifti(volume, { gzip }), `test.${type}.nii`);
        expect(back.datatype).toBe(type);
        expect(back.data.constructor).toBe(volume.data.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(volume.data));
        expect(back.shape).toEqual(shape);
        expectAffineClose(back.affine, rotated);
        expect(back.spacing[0]).toBeCloseTo(3, 5);
        expect(back.spacing[1]).toBeCloseTo(1, 5);
        expect(back.spacing[2]).toBeCloseTo(2.5, 5);
      }
    });
  }

  it('converts on write to a requested type, rounding, and refuses values that do not fit', () => {
    const data = Float32Array.from({ length: 210 }, (_, i) => i - 100.4);
    const back = decodeNifti(encodeNifti({ data, shape, spacing: [1, 1, 1], affine: rotated }, { datatype: 'int16' }), 'x');
    expect(back.data).toBeInstanceOf(Int16Array);
    expect(back.data[0]).toBe(-100);
    expect(() => encodeNifti({ data, shape, spacing: [1, 1, 1], affine: rotated }, { datatype: 'uint8' }, 'out.nii.gz')).toThrow(/out\.nii\.gz: .*does not fit uint8/);
  });

  it('reads geometry from the qform when there is no sform, and maps (i, j, k) to (D, H, W) = (k, j, i)', () => {
    const volume = randomVolume('int16', 3);
    const back = decodeNifti(encodeNifti(volume, { sformCode: 0 }), 'q.nii.gz');
    expect(back.sformCode).toBe(0);
    expectAffineClose(back.affine, rotated);
    // Voxel (d, h, w) is file voxel (i, j, k) = (w, h, d): data index w + W * (h + H * d).
    const fileAffine = swapFirstAndThirdAxes(back.affine);
    expect(applyAffine(fileAffine, [2, 3, 4])).toEqual(applyAffine(back.affine, [4, 3, 2]));
  });

  it('prefers the sform over the qform when both are set', () => {
    const bytes = encodeNifti(randomVolume('int16', 4), { gzip: false });
    // Shift the sform's x offset (srow_x[3]) only; the qform still says the old one.
    new DataView(bytes.buffer).setFloat32(280 + 12, 999, true);
    expect(decodeNifti(bytes, 's').affine[12]).toBeCloseTo(999, 3);
  });

  it('applies scl_slope and scl_inter', () => {
    const bytes = craft((view) => {
      view.setFloat32(112, 2, true);
      view.setFloat32(116, -1024, true);
      for (let i = 0; i < 64; i++) view.setInt16(352 + 2 * i, i, true);
    });
    const volume = decodeNifti(bytes, 'scaled.nii');
    expect(volume.data).toBeInstanceOf(Float32Array);
    expect(volume.data[0]).toBe(-1024);
    expect(volume.data[10]).toBe(-1004);
  });

  it('reads big-endian files', () => {
    const bytes = craft((view) => {
      // Rewrite every header field big-endian.
      view.setInt32(0, 348, false);
      [3, 4, 4, 4, 1, 1, 1, 1].forEach((n, i) => view.setInt16(40 + i * 2, n, false));
      view.setInt16(70, 4, false);
      view.setInt16(72, 16, false);
      [1, 2, 2, 2, 1, 1, 1, 1].forEach((v, i) => view.setFloat32(76 + i * 4, v, false));
      view.setFloat32(108, 352, false);
      view.setFloat32(112, 1, false);
      for (let i = 0; i < 64; i++) view.setInt16(352 + 2 * i, i - 30, false);
    });
    const volume = decodeNifti(bytes, 'be.nii');
    expect(Array.from(volume.data.slice(0, 3))).toEqual([-30, -29, -28]);
    expect(volume.spacing).toEqual([2, 2, 2]);
  });

  it('is read by nifti-reader-js with the same voxels and geometry', () => {
    const volume = randomVolume('int16', 9);
    const file = encodeNifti(volume, { description: 'check' });
    let buffer: ArrayBuffer = file.slice().buffer;
    expect(nifti.isCompressed(buffer)).toBe(true);
    buffer = nifti.decompress(buffer) as ArrayBuffer;
    expect(nifti.isNIFTI1(buffer)).toBe(true);
    const header = nifti.readHeader(buffer);
    expect(header.dims.slice(0, 4)).toEqual([3, shape[2], shape[1], shape[0]]);
    expect(header.datatypeCode).toBe(4);
    const voxels = new Int16Array(nifti.readImage(header, buffer));
    expect(Array.from(voxels)).toEqual(Array.from(volume.data));
    const rows = affineRows(swapFirstAndThirdAxes(rotated));
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expect(header.affine[r]![c]).toBeCloseTo(rows[r]![c]!, 3);
  });

  it('names orientations like nibabel', () => {
    expect(orientationCode(affineFromRows([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]))).toBe('RAS');
    expect(orientationCode(affineFromRows([[-1.5, 0, 0, 0], [0, -1.5, 0, 0], [0, 0, 1.5, 0]]))).toBe('LPS');
    expect(orientationCode(affineFromRows([[0, 0, -1, 0], [1, 0, 0, 0], [0, -1, 0, 0]]))).toBe('AIL');
  });
});

describe('NIfTI bad input', () => {
  const good = () => craft(() => {});

  it('accepts the hand-made reference file, and a 4-D file with one volume', () => {
    expect(decodeNifti(good(), 'ok.nii').shape).toEqual([4, 4, 4]);
    expect(decodeNifti(craft(() => {}, [4, 4, 4, 4, 1]), 'one.nii').shape).toEqual([4, 4, 4]);
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a file shorter than a header', () => good().slice(0, 200), /short\.nii: truncated: 200 bytes/],
    ['voxel data cut short', () => good().slice(0, 400), /short\.nii: truncated: .*need 480 bytes/],
    ['a cut gzip stream', () => { const gz = gzipSync(good()); return gz.slice(0, gz.length - 6); }, /short\.nii: corrupt or truncated gzip/],
    ['a gzip stream cut inside the deflate data', () => gzipSync(good()).slice(0, 30), /short\.nii: truncated gzip stream: the compressed data of member 1 ends early/],
    ['a wrong header size', () => craft((v) => v.setInt32(0, 1234, true)), /short\.nii: not a NIfTI-1 file/],
    ['a wrong magic', () => craft((_, b) => b.set([0x78, 0x79, 0x7a, 0], 344)), /short\.nii: wrong magic "xyz/],
    ['a 2-D image', () => craft(() => {}, [2, 8, 8], 4, 16, 64), /short\.nii: 2-D image \(8x8\)/],
    ['a 3-D image one slice thick', () => craft(() => {}, [3, 8, 8, 1], 4, 16, 64), /short\.nii: 2-D image/],
    ['a 4-D image with two volumes', () => craft(() => {}, [4, 4, 4, 2, 2], 4, 16, 64), /short\.nii: 4-D image with 2 volumes/],
    ['zero spacing', () => craft((v) => v.setFloat32(80, 0, true)), /short\.nii: zero or negative voxel spacing: pixdim\[1\] = 0/],
    ['negative spacing', () => craft((v) => v.setFloat32(88, -2, true)), /short\.nii: zero or negative voxel spacing: pixdim\[3\] = -2/],
    ['a zero column in the sform', () => craft((v) => v.setInt16(254, 1, true)), /short\.nii: zero or non-finite voxel spacing in the sform/],
    ['an unsupported type', () => craft(() => {}, [3, 4, 4, 4], 1024, 64, 64), /short\.nii: unsupported voxel type int64/],
    ['NaN voxels', () => craft((v) => v.setFloat32(352 + 4 * 5, NaN, true), [3, 4, 4, 4], 16, 32), /short\.nii: 1 non-finite voxel .* \(0, 1, 1\)/],
    ['infinite voxels', () => craft((v) => { v.setFloat32(352, Infinity, true); v.setFloat32(356, -Infinity, true); }, [3, 4, 4, 4], 16, 32), /short\.nii: 2 non-finite voxels/],
  ];
  for (const [what, make, message] of cases) {
    it(`rejects ${what}, naming the file`, () => {
      expect(() => decodeNifti(make(), 'short.nii')).toThrow(message);
    });
  }

  it('reads a multi-member gzip as its members concatenated, as gzip(1) and nibabel do', () => {
    const raw = encodeNifti(randomVolume('int16', 8), { gzip: false });
    const cut = 500; // inside the voxel data: neither member is a NIfTI file on its own
    const members = concat(gzipSync(raw.subarray(0, cut)), gzipSync(raw.subarray(cut)));
    const back = decodeNifti(members, 'multi.nii.gz');
    expect(Array.from(back.data)).toEqual(Array.from(decodeNifti(raw, 'raw.nii').data));
    // Three members, two of them identical (so with identical trailers), and zero padding after.
    const third = raw.length - 40;
    const three = concat(gzipSync(raw.subarray(0, 40)), gzipSync(raw.subarray(40, third)), gzipSync(raw.subarray(third)), new Uint8Array(512));
    expect(Array.from(decodeNifti(three, 'three.nii.gz').data)).toEqual(Array.from(back.data));
    const twins = new Uint8Array(2 * 512).fill(7);
    expect(Array.from(gunzipMembers(concat(gzipSync(twins.subarray(0, 512)), gzipSync(twins.subarray(512))), 'twins.gz'))).toEqual(Array.from(twins));
  });

  it('tells trailing garbage from a stream cut short', () => {
    const gz = gzipSync(good());
    expect(decodeNifti(concat(gz, new Uint8Array(100)), 'padded.nii.gz').shape).toEqual([4, 4, 4]);
    expect(() => decodeNifti(concat(gz, new TextEncoder().encode('appended text')), 'garbage.nii.gz')).toThrow(
      new RegExp(`^garbage\\.nii\\.gz: 13 bytes of trailing garbage after the gzip data \\(which ends at byte ${gz.length}\\)`),
    );
    expect(() => decodeNifti(gz.subarray(0, gz.length - 3), 'cut.nii.gz')).toThrow(/^cut\.nii\.gz: corrupt or truncated gzip stream: member 1 has no trailer/);
    expect(() => decodeNifti(concat(gz, gz.subarray(0, 20)), 'cut2.nii.gz')).toThrow(/^cut2\.nii\.gz: truncated gzip stream: the compressed data of member 2 ends early/);
  });

  it('honours the spatial unit: metres and micrometres are read as millimetres, an unknown unit with a warning', () => {
    const volume = randomVolume('int16', 9);
    for (const [code, perMm] of [[1, 0.001], [3, 1000]] as const) {
      const inUnit = { ...volume, affine: affineFromRows(affineRows(volume.affine).slice(0, 3).map((row) => row.map((v) => v * perMm))) };
      const bytes = encodeNifti(inUnit, { gzip: false });
      bytes[123] = code | 8; // xyzt_units: the spatial unit, seconds
      const back = decodeNifti(bytes, 'units.nii');
      expect(back.spacing.map((v) => +v.toFixed(4))).toEqual([3, 1, 2.5]);
      expectAffineClose(back.affine, rotated, 1e-3);
      expect(back.warnings).toEqual([]);
    }
    const unknown = encodeNifti(volume, { gzip: false });
    unknown[123] = 0;
    const back = decodeNifti(unknown, 'nounit.nii');
    expect(back.spacing.map((v) => +v.toFixed(4))).toEqual([3, 1, 2.5]);
    expect(back.warnings).toEqual([expect.stringMatching(/^nounit\.nii: spatial unit not given .* read as millimetres/)]);
  });

  it('rejects an empty mask and a mask on another grid', () => {
    const ct: Volume<VoxelArray> = { data: new Int16Array(64), shape: [4, 4, 4], spacing: [1, 1, 1], affine: affineFromRows([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]) };
    expect(() => toMask({ ...ct, data: new Uint8Array(64) }, 'lesion.nii.gz')).toThrow(/lesion\.nii\.gz: empty mask/);
    expect(toMask({ ...ct, data: new Uint8Array(64) }, 'lesion.nii.gz', { allowEmpty: true }).data.length).toBe(64);
    const other = { ...ct, shape: [4, 4, 5] as Shape3, data: new Uint8Array(80) };
    expect(() => checkSameGrid(other, 'lesion.nii.gz', ct, 'ct.nii.gz')).toThrow(/lesion\.nii\.gz: mask grid 4x4x5 differs from its CT ct\.nii\.gz \(4x4x4\)/);
    const shifted = { ...ct, affine: affineFromRows([[1, 0, 0, 0.5], [0, 1, 0, 0], [0, 0, 1, 0]]) };
    expect(() => checkSameGrid(shifted, 'lesion.nii.gz', ct, 'ct.nii.gz')).toThrow(/lesion\.nii\.gz: mask affine differs from its CT ct\.nii\.gz \(grid corners up to 0\.500 mm apart\)/);
    expect(() => checkSameGrid({ ...ct }, 'lesion.nii.gz', ct, 'ct.nii.gz')).not.toThrow();
  });
});
