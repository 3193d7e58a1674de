// gzip decompression with the checks and the leniency of the tools that write and read .nii.gz:
//  - several members one after another (as `cat a.gz b.gz`, or pigz, writes them) are one file whose
//    content is the members' contents concatenated (RFC 1952, gzip(1) and Python's gzip, which
//    nibabel uses);
//  - zero bytes after the last member are padding (tape blocks, preallocated files) and are ignored,
//    as gzip(1) and Python do; any other bytes there are trailing garbage, an error of its own;
//  - each member's trailer (CRC-32 and length) must match what it inflates to, so a stream cut short
//    or damaged is never taken for a shorter file.
// It streams: compressed bytes go in by pieces, inflated bytes come out by pieces, and neither the
// whole compressed file nor the whole content is ever held here. The reader of the content (the NIfTI
// decoder) can so check a header, and refuse a file, before the rest is inflated. Input is fed to the
// inflater at most PIECE bytes at a time, because deflate can expand about 1000-fold: one piece gives
// at most about 16 MB, whatever the file. No Node imports: this runs in browsers too.
import { Inflate } from 'fflate';
import { crc32Update } from './crc32';
import { DataError } from '../errors';

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const PIECE = 16 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The fields of fflate's streaming Inflate that tell where a deflate stream ends: `s.f` (the final
 * block was begun), `s.l` (a block is still open), `s.p` (bit position in `p`), `p` (input not yet
 * consumed). fflate's own multi-member Gunzip reads the same fields; they are checked to exist at
 * construction so that an fflate that renamed them fails loudly, not silently.
 */
interface InflateInternals {
  s: { f?: number; l?: unknown; p?: number };
  p: Uint8Array;
}

/** Bytes of the gzip member header at the start of `bytes`, 0 when more bytes are needed, or an error. */
function headerLength(bytes: Uint8Array, source: string, member: number): number {
  if (bytes.length < 10) return 0;
  if (bytes[2] !== 8) throw new DataError(source, `gzip member ${member} uses compression method ${bytes[2]}, not deflate`);
  const flags = bytes[3]!;
  let p = 10;
  if (flags & FEXTRA) {
    if (p + 2 > bytes.length) return 0;
    p += 2 + (bytes[p]! | (bytes[p + 1]! << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    while (p < bytes.length && bytes[p] !== 0) p++;
    if (p >= bytes.length) return 0;
    p++;
  }
  if (flags & FHCRC) p += 2;
  return p > bytes.length ? 0 : p;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

type State = 'header' | 'deflate' | 'trailer' | 'after';

/** Streaming gunzip: push() compressed pieces, get the content through `onData`; finish() at the end. */
export class GunzipStream {
  private state: State = 'header';
  private member = 1;
  /** Compressed bytes held between pushes: a header or trailer cut by a piece boundary. */
  private held: Uint8Array = new Uint8Array(0);
  private inflater: Inflate | null = null;
  private crc = 0;
  private size = 0;
  /** Bytes of the whole compressed input consumed so far (for error messages). */
  private consumed = 0;
  private endOfData = 0;
  private trailing = 0;
  private garbage = false;

  constructor(
    private readonly source: string,
    private readonly onData: (chunk: Uint8Array) => void,
  ) {}

  /** Compressed bytes in; content bytes come out through onData as they are inflated. */
  push(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += PIECE) this.step(bytes.subarray(at, Math.min(bytes.length, at + PIECE)));
  }

  /** The end of the input: checks that the last member is complete and nothing but zeros follows. */
  finish(): void {
    if (this.state === 'deflate') {
      try {
        this.inflater!.push(new Uint8Array(0), true);
      } catch (error) {
        throw this.inflateError(error);
      }
      // A complete deflate stream would have moved on to the trailer in step().
      throw new DataError(this.source, `truncated gzip stream: the compressed data of member ${this.member} ends early`);
    }
    if (this.state === 'header') throw new DataError(this.source, `truncated: gzip member ${this.member} ends inside its header`);
    if (this.state === 'trailer') throw this.noTrailer();
    // A lone byte held back in case it began another member's magic number.
    for (const b of this.held) if (b !== 0) this.garbage = true;
    this.trailing += this.held.length;
    if (this.garbage) {
      throw new DataError(
        this.source,
        `${this.trailing} bytes of trailing garbage after the gzip data (which ends at byte ${this.endOfData}); the file was damaged or appended to`,
      );
    }
  }

  private step(piece: Uint8Array): void {
    let bytes = concat(this.held, piece);
    this.held = new Uint8Array(0);
    while (bytes.length > 0) {
      if (this.state === 'header') {
        const n = headerLength(bytes, this.source, this.member);
        if (n === 0) break;
        this.consumed += n;
        bytes = bytes.subarray(n);
        this.startMember();
      } else if (this.state === 'deflate') {
        bytes = this.inflate(bytes);
      } else if (this.state === 'trailer') {
        if (bytes.length < 8) break;
        const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
        if (view.getUint32(0, true) !== this.crc || view.getUint32(4, true) !== this.size >>> 0) throw this.noTrailer();
        this.consumed += 8;
        bytes = bytes.subarray(8);
        this.endOfData = this.consumed;
        this.state = 'after';
      } else {
        // After a member: another member, zero padding, or garbage (counted to the end, never kept).
        if (this.trailing === 0 && !this.garbage) {
          if (bytes.length < 2 && bytes[0] === 0x1f) break;
          if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
            this.member++;
            this.state = 'header';
            continue;
          }
        }
        for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) this.garbage = true;
        this.trailing += bytes.length;
        this.consumed += bytes.length;
        bytes = bytes.subarray(bytes.length);
      }
    }
    this.held = bytes.slice();
  }

  private startMember(): void {
    this.crc = 0;
    this.size = 0;
    const inflater = new Inflate((chunk) => {
      if (chunk.length === 0) return;
      this.crc = crc32Update(this.crc, chunk);
      this.size += chunk.length;
      this.onData(chunk);
    });
    const internals = inflater as unknown as InflateInternals;
    if (typeof internals.s !== 'object' || !(internals.p instanceof Uint8Array)) {
      throw new Error('gunzip: this fflate version does not expose the streaming inflate state it is built on');
    }
    this.inflater = inflater;
    this.state = 'deflate';
  }

  /** Feeds deflate data; returns the bytes after the end of the deflate stream, if it ended. */
  private inflate(bytes: Uint8Array): Uint8Array {
    const inflater = this.inflater!;
    const internals = inflater as unknown as InflateInternals;
    const before = internals.p.length; // held by the inflater from the last push, counted then as not consumed
    try {
      inflater.push(bytes, false);
    } catch (error) {
      throw this.inflateError(error);
    }
    if (!(internals.s.f && !internals.s.l)) {
      this.consumed += before + bytes.length - internals.p.length;
      return new Uint8Array(0);
    }
    // The stream ended: what follows its last (partial) byte is the trailer and whatever comes next.
    const rest = internals.p.subarray(((internals.s.p ?? 0) + 7) >> 3);
    this.consumed += before + bytes.length - rest.length;
    this.inflater = null;
    this.state = 'trailer';
    return rest;
  }

  private inflateError(error: unknown): DataError {
    // An error of the content's reader (a NIfTI header refused), thrown through the inflater: as it is.
    if (error instanceof DataError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (/EOF/i.test(message)) return new DataError(this.source, `truncated gzip stream: the compressed data of member ${this.member} ends early`);
    return new DataError(this.source, `corrupt gzip stream: member ${this.member} does not inflate (${message})`);
  }

  private noTrailer(): DataError {
    return new DataError(
      this.source,
      `corrupt or truncated gzip stream: member ${this.member} has no trailer matching its ${this.size} inflated bytes (length or CRC)`,
    );
  }
}

/** The content of a whole gzip file in memory (one or more members, optionally zero-padded); errors name `source`. */
export function gunzipMembers(bytes: Uint8Array, source: string): Uint8Array {
  const parts: Uint8Array[] = [];
  const stream = new GunzipStream(source, (chunk) => parts.push(chunk));
  stream.push(bytes);
  stream.finish();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}
