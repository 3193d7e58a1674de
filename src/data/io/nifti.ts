// NIfTI-1 in and out, for Node and browsers alike (bytes in, bytes out; files.node.ts does the disk).
// Reading is nifti-read.ts (in pieces, the header checked first: nifti-header.ts); writing is here:
// the header (niftiHeaderBytes, shared with the streaming map writer) and the voxels.
import { gzipSync } from 'fflate';
import { type Affine, affineRows, affineSpacing, formatShape, type Shape3, swapFirstAndThirdAxes, type Volume, type VoxelArray, voxelCount } from '../geometry/volume';
import { DataError } from '../errors';
import { DATA_OFFSET, formatSpacing, HEADER_BYTES } from './nifti-header';
import { NIFTI_DATATYPES, datatypeOfArray, type NiftiDatatype } from './nifti-types';
import { affineToQuatern } from './qform';

export { isGzip } from './gunzip';
export { decodeNifti, DEFAULT_MAX_VOXEL_BYTES, NiftiReader, type NiftiReadOptions, type NiftiVolume } from './nifti-read';
export { DATA_OFFSET };

export interface EncodeOptions {
  /** Voxel type on disk; defaults to the type of the data array. Values are rounded for integer types. */
  datatype?: NiftiDatatype;
  /** gzip the result (.nii.gz); default true. */
  gzip?: boolean;
  /** Defaults to 1 (scanner anatomical) for both; pass 0 to leave one form out, as the source file did. */
  qformCode?: number;
  sformCode?: number;
  description?: string;
}

/** Encodes a volume as a single-file NIfTI-1 image whose geometry is the volume's affine. */
export function encodeNifti(volume: Volume<VoxelArray>, options: EncodeOptions = {}, source = 'output'): Uint8Array {
  const { shape, affine } = volume;
  const count = voxelCount(shape);
  if (volume.data.length !== count) throw new DataError(source, `data has ${volume.data.length} voxels, shape ${formatShape(shape)} needs ${count}`);
  const spacing = affineSpacing(affine);
  if (spacing.some((s) => !(s > 0) || !Number.isFinite(s))) throw new DataError(source, `zero or non-finite voxel spacing (${formatSpacing(spacing)} mm)`);
  const type = options.datatype ?? datatypeOfArray(volume.data);
  const info = NIFTI_DATATYPES[type];

  const bytes = new Uint8Array(DATA_OFFSET + count * info.bytes);
  bytes.set(niftiHeaderBytes(shape, affine, type, options));
  const view = new DataView(bytes.buffer);
  writeVoxels(view, volume.data, type, source);
  // mtime 0: the same volume always gives the same bytes.
  return options.gzip === false ? bytes : gzipSync(bytes, { level: 6, mtime: 0 });
}

function writeVoxels(view: DataView, data: VoxelArray, type: NiftiDatatype, source: string): void {
  const info = NIFTI_DATATYPES[type];
  const target = info.make(data.length);
  if (info.integer) {
    for (let i = 0; i < data.length; i++) {
      const v = Math.round(data[i]!);
      if (!(v >= info.min && v <= info.max)) {
        throw new DataError(source, `voxel ${i} = ${data[i]} does not fit ${type} (${info.min}..${info.max})`);
      }
      target[i] = v;
    }
  } else {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new DataError(source, `voxel ${i} is not finite (${data[i]})`);
      target[i] = data[i]!;
    }
  }
  // The buffer is little-endian on every platform this runs on (x86, ARM); write through DataView if not.
  const nativeLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (nativeLittle || info.bytes === 1) {
    new Uint8Array(view.buffer, DATA_OFFSET).set(new Uint8Array(target.buffer));
    return;
  }
  const out = new DataView(view.buffer, DATA_OFFSET);
  for (let i = 0; i < target.length; i++) {
    const v = target[i]!;
    if (type === 'float64') out.setFloat64(i * 8, v, true);
    else if (type === 'float32') out.setFloat32(i * 4, v, true);
    else if (type === 'int32') out.setInt32(i * 4, v, true);
    else if (type === 'int16') out.setInt16(i * 2, v, true);
    else if (type === 'uint16') out.setUint16(i * 2, v, true);
  }
}

/** The header and extension flag (DATA_OFFSET bytes) of a file of `shape` voxels of `type` with `affine`. */
export function niftiHeaderBytes(shape: Shape3, affine: Affine, type: NiftiDatatype, options: EncodeOptions = {}): Uint8Array {
  const info = NIFTI_DATATYPES[type];
  const affineIjk = swapFirstAndThirdAxes(affine);
  const q = affineToQuatern(affineIjk);
  const bytes = new Uint8Array(DATA_OFFSET);
  const view = new DataView(bytes.buffer);
  const little = true;
  view.setInt32(0, HEADER_BYTES, little);
  const dims = [3, shape[2], shape[1], shape[0], 1, 1, 1, 1];
  dims.forEach((n, i) => view.setInt16(40 + i * 2, n, little));
  view.setInt16(70, info.code, little);
  view.setInt16(72, info.bytes * 8, little);
  const pixdim = [q.qfac, q.spacing[0], q.spacing[1], q.spacing[2], 1, 1, 1, 1];
  pixdim.forEach((v, i) => view.setFloat32(76 + i * 4, v, little));
  view.setFloat32(108, DATA_OFFSET, little);
  view.setFloat32(112, 1, little); // scl_slope: values are stored as they are
  view.setFloat32(116, 0, little);
  view.setUint8(123, 2 | 8); // millimetres and seconds
  const description = (options.description ?? '').slice(0, 79);
  for (let i = 0; i < description.length; i++) bytes[148 + i] = description.charCodeAt(i) & 0x7f;
  view.setInt16(252, options.qformCode ?? 1, little);
  view.setInt16(254, options.sformCode ?? 1, little);
  view.setFloat32(256, q.b, little);
  view.setFloat32(260, q.c, little);
  view.setFloat32(264, q.d, little);
  q.offset.forEach((v, i) => view.setFloat32(268 + i * 4, v, little));
  affineRows(affineIjk).slice(0, 3).forEach((row, r) => row.forEach((v, c) => view.setFloat32(280 + r * 16 + c * 4, v, little)));
  bytes.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  return bytes;
}
