// An on-disk cache of preprocessed scans, so training does not redo body crop, resampling and CLAHE
// every epoch. An entry is keyed by the source files' paths, sizes and modification times and by the
// preprocessing parameters; change any of them and the entry is simply not found.
// File format: "SCRNPREP" + uint32 JSON length + JSON (geometry, shapes) + float32 image + uint8 masks.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCase, type CaseEntry, type LoadedCase } from '../io/dataset.node';
import { readFileBytes, writeFileAtomic } from '../io/files.node';
import { requirePlausibleCt } from '../geometry/plausible-geometry';
import { maskToPreprocessed, preprocessCt, resolvePreprocessOptions, type PreprocessGeometry, type PreprocessOptions, type PreprocessRequest, type PreprocessedScan } from './preprocess';
import { type Affine, type Shape3, type Vec3, voxelCount } from '../geometry/volume';

const MAGIC = 'SCRNPREP';
/** Bump when the preprocessing code changes what it produces. */
const FORMAT_VERSION = 1;

export interface PreprocessedCase {
  entry: CaseEntry;
  scan: PreprocessedScan;
  /** Lesion mask on the preprocessed grid, when the case has one. */
  lesion?: Uint8Array;
}

function fileStamp(path: string) {
  const s = statSync(path);
  return { path: resolve(path), size: s.size, mtimeMs: s.mtimeMs };
}

export function cacheKey(entry: CaseEntry, options: PreprocessOptions): string {
  const stamp = {
    version: FORMAT_VERSION,
    ct: fileStamp(entry.ctPath),
    lesion: entry.lesionPath ? fileStamp(entry.lesionPath) : null,
    options,
  };
  return createHash('sha256').update(JSON.stringify(stamp)).digest('hex').slice(0, 32);
}

interface Header {
  image: { shape: Shape3; spacing: Vec3; affine: number[] };
  originalBody: { shape: Shape3; spacing: Vec3; affine: number[] };
  geometry: Omit<PreprocessGeometry, 'originalAffine'> & { originalAffine: number[] };
  hasLesion: boolean;
}

export class PreprocessedCache {
  readonly options: PreprocessOptions;
  hits = 0;
  misses = 0;

  constructor(
    readonly dir: string,
    options: PreprocessRequest,
    /** Preprocess scans whose geometry or values are not a CT's (plausibleCtProblem) instead of refusing them. */
    readonly forceGeometry = false,
  ) {
    this.options = resolvePreprocessOptions(options);
  }

  pathFor(entry: CaseEntry): string {
    return join(this.dir, `${cacheKey(entry, this.options)}.prep`);
  }

  /**
   * The preprocessed case, from the cache when present, else computed and stored: from `loaded` (what
   * loadCase(entry) returned, mask included) when the caller has read the case already, so that a CT is
   * read once, else read here.
   */
  get(entry: CaseEntry, loaded?: LoadedCase): PreprocessedCase {
    if (loaded && loaded.entry.ctPath !== entry.ctPath) throw new Error(`cache: ${loaded.entry.ctPath} was read for ${entry.ctPath}`);
    const path = this.pathFor(entry);
    if (existsSync(path)) {
      try {
        const cached = decodeEntry(readFileBytes(path), entry);
        this.hits++;
        return cached;
      } catch {
        // A damaged entry is recomputed and overwritten below.
      }
    }
    this.misses++;
    loaded ??= loadCase(entry);
    // A scan in metres read as millimetres, or a voxel size off by 1000, would preprocess to a few
    // voxels or to gigabytes, and one stored without its rescale to a body of the whole box; nothing
    // learnt from such a scan or scored on it would mean anything.
    requirePlausibleCt(loaded.ct, entry.ctPath, this.forceGeometry);
    const scan = preprocessCt(loaded.ct, entry.ctPath, this.options);
    const lesion = loaded.lesion && maskToPreprocessed(loaded.lesion, entry.lesionPath!, scan.geometry);
    const result: PreprocessedCase = { entry, scan, ...(lesion ? { lesion } : {}) };
    writeFileAtomic(path, encodeEntry(result));
    return result;
  }
}

function encodeEntry(c: PreprocessedCase): Uint8Array {
  const { image, body, originalBody, geometry } = c.scan;
  const header: Header = {
    image: { shape: image.shape, spacing: image.spacing, affine: Array.from(image.affine) },
    originalBody: { shape: originalBody.shape, spacing: originalBody.spacing, affine: Array.from(originalBody.affine) },
    geometry: { ...geometry, originalAffine: Array.from(geometry.originalAffine) },
    hasLesion: !!c.lesion,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = image.data.length;
  const sizes = [8, 4, json.length, n * 4, n, originalBody.data.length, c.lesion ? n : 0];
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let o = 0;
  out.set(new TextEncoder().encode(MAGIC), o);
  new DataView(out.buffer).setUint32(8, json.length, true);
  o = 12;
  out.set(json, o);
  o += json.length;
  out.set(new Uint8Array(image.data.buffer, image.data.byteOffset, n * 4), o);
  o += n * 4;
  out.set(body.data, o);
  o += n;
  out.set(originalBody.data, o);
  o += originalBody.data.length;
  if (c.lesion) out.set(c.lesion, o);
  return out;
}

function decodeEntry(bytes: Uint8Array, entry: CaseEntry): PreprocessedCase {
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new Error('not a cache entry');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as Header;
  const n = voxelCount(header.image.shape);
  const m = voxelCount(header.originalBody.shape);
  let o = 12 + jsonLength;
  const expected = o + n * 5 + m + (header.hasLesion ? n : 0);
  if (bytes.length !== expected) throw new Error('truncated cache entry');
  const image = new Float32Array(n);
  new Uint8Array(image.buffer).set(bytes.subarray(o, o + n * 4));
  o += n * 4;
  const body = bytes.slice(o, o + n);
  o += n;
  const originalBodyData = bytes.slice(o, o + m);
  o += m;
  const lesion = header.hasLesion ? bytes.slice(o, o + n) : undefined;
  const affine = (values: number[]) => Float64Array.from(values) as Affine;
  const imageAffine = affine(header.image.affine);
  const scan: PreprocessedScan = {
    image: { data: image, shape: header.image.shape, spacing: header.image.spacing, affine: imageAffine },
    body: { data: body, shape: header.image.shape, spacing: header.image.spacing, affine: imageAffine },
    originalBody: { data: originalBodyData, shape: header.originalBody.shape, spacing: header.originalBody.spacing, affine: affine(header.originalBody.affine) },
    geometry: { ...header.geometry, originalAffine: affine(header.geometry.originalAffine) },
  };
  return { entry, scan, ...(lesion ? { lesion } : {}) };
}
