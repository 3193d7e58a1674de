// The NIfTI-1 header: everything that can be learnt and checked before a single voxel is read (what
// the file is, its shape and voxel type, where the voxels start, its geometry, its scaling), so that a
// bad or oversized file is refused before its voxel data is inflated or allocated. Header fields are
// parsed by nifti-reader-js; the geometry rules are the NIfTI standard's and nibabel's: sform when
// sform_code > 0, else qform when qform_code > 0, else the voxel sizes alone. No Node imports.
import { NIFTI1, readHeader } from 'nifti-reader-js';
import { type Affine, affineFromRows, affineRows, affineSpacing, formatShape, type Shape3, swapFirstAndThirdAxes, type Vec3, type VoxelArray, voxelCount } from '../geometry/volume';
import { DataError } from '../errors';
import { NIFTI_DATATYPES, datatypeFromCode, isSupportedDatatype, type NiftiDatatype } from './nifti-types';
import { quaternToAffine } from './qform';
import { counted } from '../counted';

export const HEADER_BYTES = 348;
export const DATA_OFFSET = 352; // header plus the four-byte extension flag
/** Header extensions past this are not read (nifti-reader-js is given the header and this much more). */
const EXTENSION_BYTES = 65536;

export interface NiftiHeader {
  shape: Shape3;
  datatype: NiftiDatatype;
  littleEndian: boolean;
  /** Byte where the voxels start (vox_offset). */
  offset: number;
  /** offset + voxels * bytes per voxel: the least a complete file holds. */
  needed: number;
  spacing: Vec3;
  affine: Affine;
  slope: number;
  inter: number;
  qformCode: number;
  sformCode: number;
  description: string;
  warnings: string[];
}

/**
 * How many bytes of the file parseNiftiHeader wants, given at least the first HEADER_BYTES (the
 * header, and extensions up to vox_offset or EXTENSION_BYTES beyond the header, whichever is less).
 */
export function headerBytesWanted(start: Uint8Array): number {
  const view = new DataView(start.buffer, start.byteOffset, start.byteLength);
  const little = view.getInt32(0, true) === HEADER_BYTES;
  const offset = view.getFloat32(108, little);
  return Number.isFinite(offset) ? Math.max(DATA_OFFSET, Math.min(Math.floor(offset), DATA_OFFSET + EXTENSION_BYTES)) : DATA_OFFSET;
}

/** Parses and checks the header at the start of `bytes` (the whole file, or at least headerBytesWanted of it). */
export function parseNiftiHeader(bytes: Uint8Array, source: string): NiftiHeader {
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
    const parsed = readHeader(bytes.slice(0, Math.min(bytes.length, DATA_OFFSET + EXTENSION_BYTES)).buffer);
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

  const pixdim = header.pixDims;
  for (let axis = 1; axis <= 3; axis++) {
    const s = pixdim[axis]!;
    if (!(s > 0) || !Number.isFinite(s)) {
      throw new DataError(source, `zero or negative voxel spacing: pixdim[${axis}] = ${s}`);
    }
  }
  const unit = spatialUnit(header.xyzt_units);
  const affineIjk = scaleAffine(chooseAffine(header, view, little, source), unit.toMm);
  const affine = swapFirstAndThirdAxes(affineIjk);
  const spacing = affineSpacing(affine);
  if (spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new DataError(source, `zero or non-finite voxel spacing in the ${header.sform_code > 0 ? 'sform' : 'qform'} (${formatSpacing(spacing)} mm)`);
  }
  return {
    shape,
    datatype: typeName,
    littleEndian: little,
    offset,
    needed: offset + voxelCount(shape) * type.bytes,
    spacing,
    affine,
    slope: header.scl_slope,
    inter: header.scl_inter,
    qformCode: header.qform_code,
    sformCode: header.sform_code,
    description: header.description.replace(/\0+$/, ''),
    warnings: unit.warning ? [`${source}: ${unit.warning}`] : [],
  };
}

/** The error for a file that ends before its voxels do. */
export function truncatedError(header: NiftiHeader, length: number, source: string): DataError {
  return new DataError(
    source,
    `truncated: ${formatShape(header.shape)} ${header.datatype} voxels need ${header.needed} bytes, the (decompressed) file has ${length}`,
  );
}

/**
 * The voxels as the header means them: scl_slope and scl_inter applied (into a float array, which
 * replaces the stored one), and float voxels checked to be finite.
 */
export function scaledVoxels(header: NiftiHeader, stored: VoxelArray, source: string): VoxelArray {
  let data = stored;
  const { slope, inter } = header;
  // scl_slope = 0 means "no scaling" in the standard; a non-finite one is treated the same way by nibabel.
  if (Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0))) {
    const count = stored.length;
    const scaled = header.datatype === 'float64' ? new Float64Array(count) : new Float32Array(count);
    const b = Number.isFinite(inter) ? inter : 0;
    for (let i = 0; i < count; i++) scaled[i] = stored[i]! * slope + b;
    data = scaled;
  }
  if (data instanceof Float32Array || data instanceof Float64Array) rejectNonFinite(data, header.shape, source);
  return data;
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

function chooseAffine(header: NIFTI1, view: DataView, little: boolean, source: string): Affine {
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
  throw new DataError(source, `${counted(bad, 'non-finite voxel')} (NaN or infinity), the first at (d, h, w) = (${d}, ${h}, ${w}): ${data[first]}`);
}

function printable(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

export function formatSpacing(s: Vec3): string {
  return s.map((v) => +v.toFixed(4)).join(' x ');
}
