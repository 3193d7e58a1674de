// Reading NIfTI in pieces: the gzip and NIfTI headers are checked before the payload is inflated, so
// a file whose header declares more voxel data than the limit is refused at once, and a gzip stream
// that inflates to far more than its header declares (a decompression bomb) is stopped early; the
// same file read in pieces of any size gives the same volume as read whole.
import { Gzip, gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeNifti, encodeNifti, NiftiReader } from '../../../src/data/io/nifti';
import { Rng } from '../../../src/data/rng';

/** A header for an int16 volume of `dims` (i, j, k) voxels, with no voxel data after it. */
function header(dims: [number, number, number]): Uint8Array {
  const bytes = new Uint8Array(352);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  [3, ...dims, 1, 1, 1, 1].forEach((n, i) => view.setInt16(40 + i * 2, n, true));
  view.setInt16(70, 4, true);
  view.setInt16(72, 16, true);
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((v, i) => view.setFloat32(76 + i * 4, v, true));
  view.setFloat32(108, 352, true);
  view.setUint8(123, 2);
  bytes.set([0x6e, 0x2b, 0x31, 0], 344);
  return bytes;
}

/** gzip of `header` followed by `zeros` zero bytes, compressed a megabyte at a time (never held whole). */
function gzipWithZeros(head: Uint8Array, zeros: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const gzip = new Gzip({ level: 6 }, (chunk) => void parts.push(chunk));
  gzip.push(head);
  const block = new Uint8Array(1 << 20);
  for (let left = zeros; left > 0; left -= block.length) gzip.push(block.subarray(0, Math.min(block.length, left)));
  gzip.push(new Uint8Array(0), true);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

describe('NIfTI limits', () => {
  it('refuses a header that declares more voxel data than the limit, before inflating, naming the file', () => {
    // 2048^3 int16 = 16 GiB declared; the file holds the header and 8 MB of zeros.
    const bomb = gzipWithZeros(header([2048, 2048, 2048]), 8 << 20);
    expect(bomb.length).toBeLessThan(64 * 1024);
    let inflated = 0;
    const reader = new NiftiReader('bomb.nii.gz');
    const started = performance.now();
    expect(() => {
      // Pieces of 1 KiB, counting how many went in before the refusal.
      for (let at = 0; at < bomb.length; at += 1024) {
        reader.push(bomb.subarray(at, at + 1024));
        inflated = at + 1024;
      }
    }).toThrow(/^bomb\.nii\.gz: the header declares 2048x2048x2048 int16 voxels, 16,384 MiB of voxel data, over the limit of 2,048 MiB; refused before reading it$/);
    expect(inflated).toBe(0); // refused inside the first piece
    expect(performance.now() - started).toBeLessThan(5000);
    // A lower limit, with the hint a command gives.
    const raw = encodeNifti({ data: new Int16Array(64 * 64 * 64), shape: [64, 64, 64], spacing: [1, 1, 1], affine: new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]) });
    expect(() => decodeNifti(raw, 'ct.nii.gz', { maxVoxelBytes: 100_000, limitHint: '--max-scan-mb raises it' })).toThrow(
      /^ct\.nii\.gz: the header declares 64x64x64 int16 voxels, 1 MiB of voxel data, over the limit of 0 MiB \(--max-scan-mb raises it\)/,
    );
  });

  it('stops a gzip stream that inflates far beyond what its header declares', () => {
    // A 4x4x4 int16 header (128 bytes of voxels) followed by 200 MB of zeros: about 200 kB of gzip.
    const bomb = gzipWithZeros(header([4, 4, 4]), 200_000_000);
    expect(bomb.length).toBeLessThan(400_000);
    let message = '';
    try {
      decodeNifti(bomb, 'zeros.nii.gz');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^zeros\.nii\.gz: the gzip stream inflates to more than the 480 bytes its NIfTI header declares \(stopped at [\d,]+\): a damaged file or a decompression bomb$/);
    // Stopped after at most the tolerated excess and one piece's inflation, far short of 200 MB.
    const stopped = Number(/stopped at ([\d,]+)/.exec(message)![1]!.replace(/,/g, ''));
    expect(stopped).toBeLessThan(20_000_000);
  });

  it('reads a file handed over in pieces of any size as the whole file', () => {
    const rng = new Rng(5);
    const data = Int16Array.from({ length: 9 * 11 * 13 }, () => rng.int(-1000, 2000));
    const volume = { data, shape: [9, 11, 13] as [number, number, number], spacing: [1, 1, 1] as [number, number, number], affine: new Float64Array([2, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3, 0, 0, 0, 1]) };
    const raw = encodeNifti(volume, { gzip: false });
    const members = new Uint8Array([...gzipSync(raw.subarray(0, 100)), ...gzipSync(raw.subarray(100, 1000)), ...gzipSync(raw.subarray(1000))]);
    for (const file of [raw, encodeNifti(volume), members]) {
      for (const piece of [1, 7, 351, 353, 4096]) {
        const reader = new NiftiReader('pieces.nii.gz');
        for (let at = 0; at < file.length; at += piece) reader.push(file.subarray(at, at + piece));
        expect(Array.from(reader.finish().data)).toEqual(Array.from(data));
      }
    }
  });
});
