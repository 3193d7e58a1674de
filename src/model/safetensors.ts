// The .safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
// ({"__metadata__": {string: string}, name: {dtype, shape, data_offsets: [begin, end]}}), then the
// raw little-endian tensor bytes, offsets relative to the end of the header. PyTorch, JAX, NumPy and
// the safetensors library read it, so weights trained here can be inspected anywhere. The reader
// checks everything a corrupt or truncated file can get wrong and names the file in each error.
import { DataError } from '../data/errors';

export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U32' | 'U16' | 'U8' | 'BOOL';

const BYTES_PER_ELEMENT: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** The tensor's raw little-endian bytes (a view into the file for decoded tensors). */
  bytes: Uint8Array;
}

export interface SafetensorsContents {
  /** The free-form string map under "__metadata__" (empty when absent). */
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

/** What the writer accepts for one tensor: typed values and their shape. */
export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array | Int32Array | Uint32Array | Uint8Array;
}

/** The format caps the header at 100 MB; a larger length is corruption, not a real file. */
const MAX_HEADER_BYTES = 100_000_000;

function dtypeOf(data: TensorToWrite['data']): SafetensorsDType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  return 'U8';
}

/**
 * Encodes tensors (written in the given order) and string metadata. The header is padded with spaces
 * to a multiple of 8 bytes so that the data starts aligned, as the reference writer does.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, TensorToWrite> | [string, TensorToWrite][], metadata: Record<string, string> = {}): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : (tensors as [string, TensorToWrite][]);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`encodeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error('encodeSafetensors: "__metadata__" cannot name a tensor');
    if (name in header) throw new Error(`encodeSafetensors: two tensors named "${name}"`);
    const count = t.shape.reduce((a: number, b: number) => a * b, 1);
    if (count !== t.data.length) throw new RangeError(`encodeSafetensors: tensor "${name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const bytes = t.data.byteLength;
    header[name] = { dtype: dtypeOf(t.data), shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Decodes a .safetensors file; `source` (the file name) starts every error message. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContents {
  if (bytes.length < 8) throw new DataError(source, `not a safetensors file: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw new DataError(source, `not a safetensors file: header length ${headerLength} is implausible`);
  const n = Number(headerLength);
  if (8 + n > bytes.length) throw new DataError(source, `truncated: the header needs ${n} bytes, the file has ${bytes.length - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    throw new DataError(source, `the header is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new DataError(source, 'the header must be a JSON object');

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new DataError(source, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new DataError(source, `__metadata__ "${k}" must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!entry || typeof entry !== 'object') throw new DataError(source, `tensor "${name}": entry must be an object`);
    const dtype = entry.dtype as SafetensorsDType;
    if (typeof dtype !== 'string' || !(dtype in BYTES_PER_ELEMENT)) throw new DataError(source, `tensor "${name}": unsupported dtype ${JSON.stringify(entry.dtype)}`);
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new DataError(source, `tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw new DataError(source, `tensor "${name}": data_offsets ${JSON.stringify(offsets)} must be [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES_PER_ELEMENT[dtype]) {
      throw new DataError(source, `tensor "${name}": ${end - begin} bytes do not hold ${dtype} of shape [${shape.join(', ')}]`);
    }
    if (end > dataLength) throw new DataError(source, `truncated: tensor "${name}" ends at byte ${end} of the data, which has ${dataLength}`);
    spans.push([begin, end, name]);
    tensors.set(name, { dtype, shape: [...(shape as number[])], bytes: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  // The format requires the tensors to tile the data exactly: an overlap or a gap means corruption.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let expected = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== expected) throw new DataError(source, `tensor "${name}" starts at byte ${begin} of the data, expected ${expected} (overlap or gap)`);
    expected = end;
  }
  if (expected !== dataLength) throw new DataError(source, `${dataLength - expected} bytes after the last tensor (expected the data to end at ${expected})`);
  return { metadata, tensors };
}

/** A tensor's values as float32, converting from any floating or integer dtype. */
export function tensorToFloat32(tensor: SafetensorsTensor, name: string, source: string): Float32Array {
  const { bytes, dtype } = tensor;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / BYTES_PER_ELEMENT[dtype];
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        word.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = word.getFloat32(0);
      }
      break;
    }
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    default:
      throw new DataError(source, `tensor "${name}": cannot convert ${dtype as string} to float32`);
  }
  return out;
}

/** IEEE half to float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
