// Reading and writing scans on disk (Node only). Writes go to a temporary name in the same folder and
// are renamed into place (atomic-write.node.ts), so an interrupted run never leaves a half-written
// file under the real name.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.node';
import { checkSameGrid, toMask, type MaskOptions } from './checks';
import { DataError } from './errors';
import { decodeNifti, encodeNifti, type EncodeOptions, type NiftiVolume } from './nifti';
import type { Volume, VoxelArray } from './volume';

export function readFileBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(error)})`);
  }
}

export function readNifti(path: string): NiftiVolume {
  return decodeNifti(readFileBytes(path), path);
}

/** Reads a lesion (or body) mask and checks it against the CT it belongs to. */
export function readMask(path: string, ct?: Volume<VoxelArray>, ctPath = 'its CT', options: MaskOptions = {}): Volume<Uint8Array> {
  const volume = readNifti(path);
  if (ct) checkSameGrid(volume, path, ct, ctPath);
  return toMask(volume, path, options);
}

export { writeFileAtomic };

/** The bytes of a volume as the NIfTI-1 file `path`: gzip unless the name ends in plain ".nii". */
export function niftiFileBytes(path: string, volume: Volume<VoxelArray>, options: EncodeOptions = {}): Uint8Array {
  const gzip = options.gzip ?? !/\.nii$/i.test(path);
  return encodeNifti(volume, { ...options, gzip }, path);
}

/** Writes a volume as NIfTI-1; gzip unless the name ends in plain ".nii". */
export function writeNifti(path: string, volume: Volume<VoxelArray>, options: EncodeOptions = {}): void {
  writeFileAtomic(path, niftiFileBytes(path, volume, options));
}
