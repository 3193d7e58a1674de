// Reading and writing scans on disk (Node only). Writes go to a temporary name in the same folder and
// are renamed into place, so an interrupted run never leaves a half-written file under the real name.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
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

export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Writes a volume as NIfTI-1; gzip unless the name ends in plain ".nii". */
export function writeNifti(path: string, volume: Volume<VoxelArray>, options: EncodeOptions = {}): void {
  const gzip = options.gzip ?? !/\.nii$/i.test(path);
  writeFileAtomic(path, encodeNifti(volume, { ...options, gzip }, path));
}
