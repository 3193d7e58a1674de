// Reading a NIfTI-1 file (.nii or .nii.gz) from pieces of bytes, so that a large scan is never held
// twice: the compressed file is not kept (the caller hands it over piece by piece), and the inflated
// voxel bytes go straight into the one typed array that is returned. The gzip header is checked on the
// first bytes and the NIfTI header on the first inflated ones, so that a file whose header declares
// more voxel data than `maxVoxelBytes` is refused before its payload is inflated or allocated, and a
// stream that inflates to more than its header declares (a decompression bomb) is stopped there.
// No Node imports: the page reads files with it too (files.node.ts feeds it from the disk).
import { DataError } from '../errors';
import { GunzipStream, isGzip } from './gunzip';
import { HEADER_BYTES, headerBytesWanted, parseNiftiHeader, scaledVoxels, truncatedError, type NiftiHeader } from './nifti-header';
import { NIFTI_DATATYPES } from './nifti-types';
import { formatShape, voxelCount, type Volume, type VoxelArray } from '../geometry/volume';
import type { NiftiDatatype } from './nifti-types';

export interface NiftiVolume extends Volume<VoxelArray> {
  /** The type the voxels were stored as (the data array may be wider when scl_slope/scl_inter apply). */
  datatype: NiftiDatatype;
  qformCode: number;
  sformCode: number;
  description: string;
  /** What the reader assumed and the user may want to know (an unknown spatial unit read as mm). */
  warnings: string[];
}

/** Default limit on the voxel data a header may declare: 2 GiB (a 1024 x 1024 x 1024 int16 scan). */
export const DEFAULT_MAX_VOXEL_BYTES = 2 * 1024 ** 3;
/** Inflated bytes tolerated after the voxels (some writers pad), beyond which the stream is refused. */
const EXCESS_BYTES = 1024 * 1024;

export interface NiftiReadOptions {
  /** Refuse a file whose header declares more voxel data than this (bytes; default DEFAULT_MAX_VOXEL_BYTES). */
  maxVoxelBytes?: number;
  /** What the error names as the way to raise the limit (a command-line option). */
  limitHint?: string;
}

/** Decodes a NIfTI-1 file handed over in pieces: push() each, then finish() for the volume. */
export class NiftiReader {
  private gunzip: GunzipStream | null = null;
  private started = false;
  /** A first byte held until the second tells whether the file is gzip. */
  private first: Uint8Array | null = null;
  /** The first bytes of the (inflated) file, until the header is parsed. */
  private head: Uint8Array = new Uint8Array(0);
  private header: NiftiHeader | null = null;
  private voxels: VoxelArray | null = null;
  private voxelBytes: Uint8Array | null = null;
  /** Bytes of the (inflated) file seen so far. */
  private length = 0;

  constructor(
    private readonly source: string,
    private readonly options: NiftiReadOptions = {},
  ) {}

  /** Bytes of the file as stored (compressed or not), in order. */
  push(bytes: Uint8Array): void {
    if (!this.started) {
      // Gzip is told by its magic bytes, not the file name: wait for two bytes.
      if (this.first) bytes = concat(this.first, bytes);
      this.first = null;
      if (bytes.length < 2) {
        this.first = bytes.slice();
        return;
      }
      this.started = true;
      if (isGzip(bytes)) this.gunzip = new GunzipStream(this.source, (chunk) => this.content(chunk));
    }
    if (this.gunzip) this.gunzip.push(bytes);
    else this.content(bytes);
  }

  /** The end of the file: the volume, or an error naming the file and what is wrong. */
  finish(): NiftiVolume {
    if (this.first) this.content(this.first); // a one-byte file
    this.gunzip?.finish();
    if (!this.header) this.parseHeader(true);
    const header = this.header!;
    if (this.length < header.needed) throw truncatedError(header, this.length, this.source);
    const stored = this.voxels!;
    this.voxels = null;
    this.voxelBytes = null;
    if (!header.littleEndian === nativeLittle()) swapBytes(stored, NIFTI_DATATYPES[header.datatype].bytes);
    return {
      data: scaledVoxels(header, stored, this.source),
      shape: header.shape,
      spacing: header.spacing,
      affine: header.affine,
      datatype: header.datatype,
      qformCode: header.qformCode,
      sformCode: header.sformCode,
      description: header.description,
      warnings: header.warnings,
    };
  }

  /** Bytes of the inflated file. */
  private content(chunk: Uint8Array): void {
    let at = 0;
    if (!this.header) {
      const want = this.head.length < HEADER_BYTES ? HEADER_BYTES : headerBytesWanted(this.head);
      const take = Math.min(chunk.length, want - this.head.length);
      this.head = concat(this.head, chunk.subarray(0, take));
      this.length += take;
      at = take;
      if (this.head.length < want) return;
      // With the first HEADER_BYTES the size and offset fields are known: take the rest of the header.
      if (headerBytesWanted(this.head) > this.head.length) return this.content(chunk.subarray(at));
      this.parseHeader(false);
    }
    if (at < chunk.length) this.voxelContent(chunk.subarray(at));
  }

  private parseHeader(atEnd: boolean): void {
    const header = parseNiftiHeader(this.head, this.source);
    this.header = header;
    const { maxVoxelBytes = DEFAULT_MAX_VOXEL_BYTES } = this.options;
    const declared = header.needed - header.offset;
    if (declared > maxVoxelBytes) {
      const mib = (n: number) => `${Math.round(n / 1024 ** 2).toLocaleString('en-US')} MiB`;
      throw new DataError(
        this.source,
        `the header declares ${formatShape(header.shape)} ${header.datatype} voxels, ${mib(declared)} of voxel data, over the limit of ` +
          `${mib(maxVoxelBytes)}${this.options.limitHint ? ` (${this.options.limitHint})` : ''}; refused before reading it`,
      );
    }
    if (atEnd && this.length < header.needed) throw truncatedError(header, this.length, this.source);
    const count = voxelCount(header.shape);
    this.voxels = NIFTI_DATATYPES[header.datatype].make(count);
    this.voxelBytes = new Uint8Array(this.voxels.buffer, this.voxels.byteOffset, this.voxels.byteLength);
    // Bytes already seen past the header (between vox_offset and what the header read took).
    const extra = this.head.subarray(Math.min(this.head.length, header.offset));
    this.length -= extra.length;
    this.head = new Uint8Array(0);
    if (extra.length) this.voxelContent(extra);
  }

  /** Inflated bytes after the header: the extension area, the voxels, then at most EXCESS_BYTES more. */
  private voxelContent(chunk: Uint8Array): void {
    const header = this.header!;
    const start = this.length;
    this.length += chunk.length;
    const from = Math.max(start, header.offset);
    const to = Math.min(this.length, header.needed);
    if (to > from) this.voxelBytes!.set(chunk.subarray(from - start, to - start), from - header.offset);
    if (this.gunzip && this.length > header.needed + EXCESS_BYTES) {
      throw new DataError(
        this.source,
        `the gzip stream inflates to more than the ${header.needed.toLocaleString('en-US')} bytes its NIfTI header declares ` +
          `(stopped at ${this.length.toLocaleString('en-US')}): a damaged file or a decompression bomb`,
      );
    }
  }
}

/** Decodes a whole .nii or .nii.gz file held in memory (gzip detected by its magic bytes). */
export function decodeNifti(input: Uint8Array, source: string, options: NiftiReadOptions = {}): NiftiVolume {
  const reader = new NiftiReader(source, options);
  reader.push(input);
  return reader.finish();
}

function nativeLittle(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Reverses the bytes of every element in place (a file of the other endianness). */
function swapBytes(data: VoxelArray, size: number): void {
  if (size === 1) return;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
