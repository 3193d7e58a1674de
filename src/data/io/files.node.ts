// Reading and writing scans on disk (Node only). Scans are read in pieces straight into the NIfTI
// reader, so a large .nii.gz is never held compressed and inflated at once. Writes go to a temporary
// name in the same folder and are renamed into place (atomic-write.node.ts), so an interrupted run
// never leaves a half-written file under the real name.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.node';
import { checkSameGrid, toMask, type MaskOptions } from '../geometry/mask-checks';
import { DataError } from '../errors';
import { encodeNifti, NiftiReader, type EncodeOptions, type NiftiReadOptions, type NiftiVolume } from './nifti';
import type { Volume, VoxelArray } from '../geometry/volume';

/** Bytes read from the disk per piece: small against any scan, large enough that calls cost nothing. */
const READ_PIECE = 1 << 20;

/** What a failed read means to the user, by the system's error code. */
const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a folder, not a file',
};

function readError(path: string, error: unknown): DataError {
  const code = (error as NodeJS.ErrnoException).code;
  return new DataError(path, (code && READ_PROBLEMS[code]) ?? `cannot read (${code ?? String(error)})`);
}

export function readFileBytes(path: string): Uint8Array {
  try {
    return plainBytes(readFileSync(path));
  } catch (error) {
    throw readError(path, error);
  }
}

/**
 * The same memory as a plain Uint8Array. A Node Buffer is a Uint8Array whose slice() shares memory
 * (a typed array's slice() copies) and whose constructor is the deprecated Buffer(n): neither should leak
 * into code written for typed arrays.
 */
function plainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export interface ReadNiftiOptions extends NiftiReadOptions {
  /** Called after each piece read from the disk with the bytes read so far and the file's size. */
  onProgress?: (done: number, total: number) => void;
}

/** Reads a .nii or .nii.gz, a piece at a time (see the top of this file). */
export function readNifti(path: string, options: ReadNiftiOptions = {}): NiftiVolume {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const reader = new NiftiReader(path, options);
    const size = fstatSync(fd).size;
    const piece = new Uint8Array(READ_PIECE);
    for (let done = 0; ; ) {
      let n: number;
      try {
        n = readSync(fd, piece, 0, piece.length, null);
      } catch (error) {
        throw readError(path, error);
      }
      if (n === 0) break;
      // The reader may keep what it is given (a header cut by the piece's end): hand it a copy.
      reader.push(piece.slice(0, n));
      done += n;
      options.onProgress?.(done, size);
    }
    return reader.finish();
  } finally {
    closeSync(fd);
  }
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
