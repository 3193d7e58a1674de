// gzip decompression with the checks and the leniency of the tools that write and read .nii.gz:
//  - several members one after another (as `cat a.gz b.gz`, or pigz, writes them) are one file whose
//    content is the members' contents concatenated (RFC 1952, gzip(1) and Python's gzip, which
//    nibabel uses);
//  - zero bytes after the last member are padding (tape blocks, preallocated files) and are ignored,
//    as gzip(1) and Python do; any other bytes there are trailing garbage, an error of its own;
//  - each member's trailer (CRC-32 and length) must match what it inflates to, so a stream cut short
//    or damaged is never taken for a shorter file.
// fflate inflates the raw deflate data; it does not say where that data ends, so the end of a member
// is found as the first place after its header that holds its own trailer (8 bytes: a false match
// inside deflate data has probability 2^-64 per position).
import { inflateSync } from 'fflate';
import { crc32 } from './crc32';
import { DataError } from './errors';

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** Bytes of the gzip member header starting at `at` (RFC 1952 section 2.3), or an error naming what is wrong. */
function headerLength(bytes: Uint8Array, at: number, source: string, member: number): number {
  const cut = () => new DataError(source, `truncated: gzip member ${member} ends inside its header`);
  if (at + 10 > bytes.length) throw cut();
  if (bytes[at + 2] !== 8) throw new DataError(source, `gzip member ${member} uses compression method ${bytes[at + 2]}, not deflate`);
  const flags = bytes[at + 3]!;
  let p = at + 10;
  if (flags & FEXTRA) {
    if (p + 2 > bytes.length) throw cut();
    p += 2 + (bytes[p]! | (bytes[p + 1]! << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    while (p < bytes.length && bytes[p] !== 0) p++;
    p++;
  }
  if (flags & FHCRC) p += 2;
  if (p > bytes.length) throw cut();
  return p - at;
}

/** Where the 8-byte trailer (CRC-32, length mod 2^32) of `content` lies in bytes[from..], or -1. */
function findTrailer(bytes: Uint8Array, from: number, content: Uint8Array): number {
  const crc = crc32(content);
  const size = content.length >>> 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The first match, not the last: members with the same content have the same trailer.
  const first = crc & 0xff;
  for (let p = from; p + 8 <= bytes.length; p++) {
    if (bytes[p] === first && view.getUint32(p, true) === crc && view.getUint32(p + 4, true) === size) return p;
  }
  return -1;
}

/** The content of a gzip file (one or more members, optionally zero-padded); errors name `source`. */
export function gunzipMembers(bytes: Uint8Array, source: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let member = 1; ; member++) {
    const start = at + headerLength(bytes, at, source, member);
    let content: Uint8Array;
    try {
      content = inflateSync(bytes.subarray(start));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/EOF/i.test(message)) throw new DataError(source, `truncated gzip stream: the compressed data of member ${member} ends early`);
      throw new DataError(source, `corrupt gzip stream: member ${member} does not inflate (${message})`);
    }
    const trailer = findTrailer(bytes, start, content);
    if (trailer < 0) {
      throw new DataError(source, `corrupt or truncated gzip stream: member ${member} has no trailer matching its ${content.length} inflated bytes (length or CRC)`);
    }
    parts.push(content);
    at = trailer + 8;
    if (at === bytes.length) break;
    if (bytes[at] === 0x1f && bytes[at + 1] === 0x8b) continue;
    let padding = true;
    for (let p = at; p < bytes.length && padding; p++) padding = bytes[p] === 0;
    if (padding) break;
    throw new DataError(source, `${bytes.length - at} bytes of trailing garbage after the gzip data (which ends at byte ${at}); the file was damaged or appended to`);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}
