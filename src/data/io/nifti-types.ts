// The NIfTI-1 voxel types this project reads and writes, with their header codes and array types.
import type { VoxelArray } from '../geometry/volume';

export type NiftiDatatype = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'float32' | 'float64';

interface DatatypeInfo {
  code: number;
  bytes: number;
  make: (length: number) => VoxelArray;
  integer: boolean;
  min: number;
  max: number;
}

export const NIFTI_DATATYPES: Record<NiftiDatatype, DatatypeInfo> = {
  int8: { code: 256, bytes: 1, make: (n) => new Int8Array(n), integer: true, min: -128, max: 127 },
  uint8: { code: 2, bytes: 1, make: (n) => new Uint8Array(n), integer: true, min: 0, max: 255 },
  int16: { code: 4, bytes: 2, make: (n) => new Int16Array(n), integer: true, min: -32768, max: 32767 },
  uint16: { code: 512, bytes: 2, make: (n) => new Uint16Array(n), integer: true, min: 0, max: 65535 },
  int32: { code: 8, bytes: 4, make: (n) => new Int32Array(n), integer: true, min: -2147483648, max: 2147483647 },
  float32: { code: 16, bytes: 4, make: (n) => new Float32Array(n), integer: false, min: -3.4028234663852886e38, max: 3.4028234663852886e38 },
  float64: { code: 64, bytes: 8, make: (n) => new Float64Array(n), integer: false, min: -Number.MAX_VALUE, max: Number.MAX_VALUE },
};

/** Names of the NIfTI codes this project does not read, for a precise error message. */
const UNSUPPORTED_CODES: Record<number, string> = {
  0: 'unknown', 1: 'binary', 32: 'complex64', 128: 'rgb24', 768: 'uint32', 1024: 'int64', 1280: 'uint64',
  1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'rgba32',
};

export function datatypeFromCode(code: number): NiftiDatatype | string {
  for (const [name, info] of Object.entries(NIFTI_DATATYPES)) if (info.code === code) return name as NiftiDatatype;
  return UNSUPPORTED_CODES[code] ?? `code ${code}`;
}

export function isSupportedDatatype(name: string): name is NiftiDatatype {
  return name in NIFTI_DATATYPES;
}

/** The NIfTI type that stores an array without loss. */
export function datatypeOfArray(data: VoxelArray): NiftiDatatype {
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}
