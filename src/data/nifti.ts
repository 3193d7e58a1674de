// NIfTI-1 in and out, for Node and browsers alike (bytes in, bytes out; files.node.ts does the disk).
// Header fields are parsed by nifti-reader-js; the geometry (which of sform and qform wins), the voxel
// decoding, the checks and the writer are ours, so the rules are the NIfTI standard's and nibabel's:
// sform when sform_code > 0, else qform when qform_code > 0, else the voxel sizes alone.
import { gzipSync } from 'fflate';
import { NIFTI1, readHeader } from 'nifti-reader-js';
import { affineFromRows, affineRows, affineSpacing, swapFirstAndThirdAxes, type Affine } from './affine';
import { DataError } from './errors';
import { gunzipMembers } from './gunzip';
import { NIFTI_DATATYPES, datatypeFromCode, datatypeOfArray, isSupportedDatatype, type NiftiDatatype } from './nifti-types';
import { affineToQuatern, quaternToAffine } from './qform';
import { formatShape, voxelCount, type Shape3, type Vec3, type Volume, type VoxelArray } from './volume';

export interface NiftiVolume extends Volume<VoxelArray> {
  /** The type the voxels were stored as (the data array may be wider when scl_slope/scl_inter apply). */
  datatype: NiftiDatatype;
  qformCode: number;
  sformCode: number;
  description: string;
  /** What the reader assumed and the user may want to know (an unknown spatial unit read as mm). */
  warnings: string[];
}

const HEADER_BYTES = 348;
const DATA_OFFSET = 352; // header plus the four-byte extension flag

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decodes a .nii or .nii.gz image (gzip detected by its magic bytes, not the file name). */
export function decodeNifti(input: Uint8Array, source: string): NiftiVolume {
  let bytes = input;
  if (isGzip(bytes)) {
    bytes = gunzipMembers(bytes, source);
  }
  if (bytes.length < HEADER_BYTES) {
    throw new DataError(source, `truncated: ${bytes.length} bytes, a NIfTI-1 header alone needs ${HEADER_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLittle = view.getInt32(0, true);
  const sizeBig = view.getInt32(0, false);
  if (sizeLittle === 540 || sizeBig === 540) throw new DataError(source, 'NIfTI-2 files are not supported, only NIfTI-1');
  if (sizeLittle !== HEADER_BYTES && sizeBig !== HEADER_BYTES) {
    throw new DataError(source, `not a NIfTI-1 file (header size field is ${sizeLittle}, expected 348)`);
  }
  const magic = String.fromCharCode(bytes[344]!, bytes[345]!, bytes[346]!);
  if (magic === 'ni1') throw new DataError(source, 'a .hdr/.img pair is not supported; convert it to a single .nii file');
  if (magic !== 'n+1') throw new DataError(source, `wrong magic "${printable(bytes.subarray(344, 348))}", expected "n+1"`);

  let header: NIFTI1;
  try {
    // nifti-reader-js reads from an ArrayBuffer that starts at the header.
    const parsed = readHeader(bytes.slice(0, Math.min(bytes.length, DATA_OFFSET + 65536)).buffer);
    if (!(parsed instanceof NIFTI1)) throw new Error('not a NIfTI-1 header');
    header = parsed;
  } catch (error) {
    throw new DataError(source, `corrupt header (${error instanceof Error ? error.message : String(error)})`);
  }
  const little = header.littleEndian;

  const shape = readShape(header, source);
  const typeName = datatypeFromCode(header.datatypeCode);
  if (!isSupportedDatatype(typeName)) throw new DataError(source, `unsupported voxel type ${typeName}`);
  const type = NIFTI_DATATYPES[typeName];

  const offset = Math.floor(header.vox_offset);
  if (!(offset >= HEADER_BYTES)) throw new DataError(source, `corrupt header: voxel offset ${header.vox_offset} lies inside the header`);
  const count = voxelCount(shape);
  const needed = offset + count * type.bytes;
  if (bytes.length < needed) {
    throw new DataError(
      source,
      `truncated: ${formatShape(shape)} ${typeName} voxels need ${needed} bytes, the (decompressed) file has ${bytes.length}`,
    );
  }

  const pixdim = header.pixDims;
  for (let axis = 1; axis <= 3; axis++) {
    const s = pixdim[axis]!;
    if (!(s > 0) || !Number.isFinite(s)) {
      throw new DataError(source, `zero or negative voxel spacing: pixdim[${axis}] = ${s}`);
    }
  }
  const unit = spatialUnit(header.xyzt_units);
  const affineIjk = scaleAffine(chooseAffine(header, bytes, little, source), unit.toMm);
  const affine = swapFirstAndThirdAxes(affineIjk);
  const spacing = affineSpacing(affine);
  if (spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new DataError(source, `zero or non-finite voxel spacing in the ${header.sform_code > 0 ? 'sform' : 'qform'} (${formatSpacing(spacing)} mm)`);
  }

  let data = readVoxels(bytes, offset, count, typeName, little);
  const slope = header.scl_slope;
  const inter = header.scl_inter;
  // scl_slope = 0 means "no scaling" in the standard; a non-finite one is treated the same way by nibabel.
  if (Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0))) {
    const scaled = typeName === 'float64' ? new Float64Array(count) : new Float32Array(count);
    const b = Number.isFinite(inter) ? inter : 0;
    for (let i = 0; i < count; i++) scaled[i] = data[i]! * slope + b;
    data = scaled;
  }
  if (data instanceof Float32Array || data instanceof Float64Array) rejectNonFinite(data, shape, source);

  return {
    data,
    shape,
    spacing,
    affine,
    datatype: typeName,
    qformCode: header.qform_code,
    sformCode: header.sform_code,
    description: header.description.replace(/\0+$/, ''),
    warnings: unit.warning ? [`${source}: ${unit.warning}`] : [],
  };
}

/**
 * The factor from the header's spatial unit (xyzt_units, bits 0-2) to mm: metres and micrometres
 * occur in files from other tools, and a scan in metres read as mm would have 0.001 mm voxels.
 * An unknown unit (0, as some writers leave it) is read as mm, the unit of every CT, with a warning.
 */
function spatialUnit(xyztUnits: number): { toMm: number; warning?: string } {
  switch (xyztUnits & 0x07) {
    case 1:
      return { toMm: 1000 };
    case 2:
      return { toMm: 1 };
    case 3:
      return { toMm: 0.001 };
    default:
      return { toMm: 1, warning: `spatial unit not given in the header (xyzt_units = ${xyztUnits}); read as millimetres` };
  }
}

/** The affine with its rotation-scaling part and its offset multiplied by `factor` (a change of unit). */
function scaleAffine(affine: Affine, factor: number): Affine {
  if (factor === 1) return affine;
  return affineFromRows(affineRows(affine).slice(0, 3).map((row) => row.map((v) => v * factor)));
}

function readShape(header: NIFTI1, source: string): Shape3 {
  const dims = header.dims;
  const ndim = dims[0]!;
  if (!(ndim >= 1 && ndim <= 7)) throw new DataError(source, `corrupt header: dim[0] = ${ndim}`);
  const sizes = dims.slice(1, ndim + 1);
  if (sizes.some((n) => !(n >= 1))) throw new DataError(source, `corrupt header: dimensions ${sizes.join('x')}`);
  if (ndim < 3 || sizes.slice(0, 3).some((n) => n === 1)) {
    throw new DataError(source, `2-D image (${formatShape(sizes)}): a 3-D volume is needed`);
  }
  if (ndim > 4 && sizes.slice(4).some((n) => n > 1)) {
    throw new DataError(source, `${ndim}-D image (${formatShape(sizes)}): only 3-D volumes are read`);
  }
  if (ndim >= 4 && sizes[3]! > 1) {
    throw new DataError(source, `4-D image with ${sizes[3]} volumes (${formatShape(sizes)}): only one volume is accepted`);
  }
  // File order is (i, j, k); ours is (D, H, W) = (k, j, i).
  return [sizes[2]!, sizes[1]!, sizes[0]!];
}

function chooseAffine(header: NIFTI1, bytes: Uint8Array, little: boolean, source: string): Affine {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixdim = header.pixDims;
  if (header.sform_code > 0) {
    const rows = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => view.getFloat32(280 + r * 16 + c * 4, little)));
    if (rows.flat().some((v) => !Number.isFinite(v))) throw new DataError(source, 'corrupt header: non-finite sform');
    return affineFromRows(rows);
  }
  if (header.qform_code > 0) {
    const q = [header.quatern_b, header.quatern_c, header.quatern_d, header.qoffset_x, header.qoffset_y, header.qoffset_z];
    if (q.some((v) => !Number.isFinite(v))) throw new DataError(source, 'corrupt header: non-finite qform');
    return quaternToAffine({
      b: header.quatern_b,
      c: header.quatern_c,
      d: header.quatern_d,
      offset: [header.qoffset_x, header.qoffset_y, header.qoffset_z],
      spacing: [pixdim[1]!, pixdim[2]!, pixdim[3]!],
      qfac: pixdim[0]! < 0 ? -1 : 1,
    });
  }
  return affineFromRows([
    [pixdim[1]!, 0, 0, 0],
    [0, pixdim[2]!, 0, 0],
    [0, 0, pixdim[3]!, 0],
  ]);
}

function readVoxels(bytes: Uint8Array, offset: number, count: number, type: NiftiDatatype, little: boolean): VoxelArray {
  const info = NIFTI_DATATYPES[type];
  const out = info.make(count);
  const nativeLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (little === nativeLittle || info.bytes === 1) {
    // Copy the bytes: the source may be unaligned for the typed array, and we must not alias it.
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + count * info.bytes));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * info.bytes);
  const read: (i: number) => number = {
    int8: (i: number) => view.getInt8(i),
    uint8: (i: number) => view.getUint8(i),
    int16: (i: number) => view.getInt16(i * 2, little),
    uint16: (i: number) => view.getUint16(i * 2, little),
    int32: (i: number) => view.getInt32(i * 4, little),
    float32: (i: number) => view.getFloat32(i * 4, little),
    float64: (i: number) => view.getFloat64(i * 8, little),
  }[type];
  for (let i = 0; i < count; i++) out[i] = read(i);
  return out;
}

function rejectNonFinite(data: Float32Array | Float64Array, shape: Shape3, source: string): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad === 0) return;
  const w = first % shape[2];
  const h = Math.floor(first / shape[2]) % shape[1];
  const d = Math.floor(first / (shape[1] * shape[2]));
  throw new DataError(source, `${bad} non-finite voxel${bad > 1 ? 's' : ''} (NaN or infinity), the first at (d, h, w) = (${d}, ${h}, ${w}): ${data[first]}`);
}

function printable(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

function formatSpacing(s: Vec3): string {
  return s.map((v) => +v.toFixed(4)).join(' x ');
}

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
  const affineIjk = swapFirstAndThirdAxes(affine);
  const q = affineToQuatern(affineIjk);

  const bytes = new Uint8Array(DATA_OFFSET + count * info.bytes);
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
