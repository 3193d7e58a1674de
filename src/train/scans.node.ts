// Training scans from data folders (Node): every case under each folder, preprocessed through the
// on-disk cache, optionally keeping only cases whose lesions (as listed in a phantom's case.json) are
// all of the allowed kinds, so that a held-out lesion kind never reaches training.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PreprocessedCache } from '../data/preprocess/cache.node';
import { listCases, type CaseEntry } from '../data/io/dataset.node';
import { DataError } from '../data/errors';
import type { PreprocessRequest } from '../data/preprocess/preprocess';
import type { TrainingScan } from './scans';

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'screener', 'preprocessed');
}

/** The lesion kinds a case.json beside the CT lists (phantoms write one), or null when there is none. */
export function caseLesionKinds(entry: CaseEntry): string[] | null {
  const path = join(entry.dir, 'case.json');
  if (!existsSync(path)) return null;
  let meta: { lesions?: { kind?: unknown }[] };
  try {
    meta = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DataError(path, `not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return (meta.lesions ?? []).map((l) => String(l.kind));
}

export interface LoadScansOptions {
  /** Keep only cases whose listed lesions are all of these kinds (cases without case.json are kept). */
  kinds?: readonly string[];
  cacheDir?: string;
  /** The preprocessing of the model being trained (configPreprocessing of its config). */
  preprocess: PreprocessRequest;
  /** Train on scans whose voxel size or extent is not a CT's instead of leaving them out. */
  forceGeometry?: boolean;
  /** Called once per case (to show progress). */
  onCase?(entry: CaseEntry, index: number, total: number, cached: boolean): void;
}

export interface LoadedScans {
  scans: TrainingScan[];
  /** Cases left out by the kinds filter, with the kinds that excluded them. */
  skipped: { id: string; kinds: string[] }[];
  /** Cases whose CT could not be read or preprocessed, with the error; training goes on without them. */
  failed: { id: string; error: string }[];
}

export function loadTrainingScans(dirs: readonly string[], options: LoadScansOptions): LoadedScans {
  const cache = new PreprocessedCache(options.cacheDir ?? defaultCacheDir(), options.preprocess, options.forceGeometry === true);
  const entries = dirs.flatMap((dir) => listCases(dir).map((entry) => ({ ...entry, id: `${dir}:${entry.id}` })));
  if (entries.length === 0) throw new DataError(dirs.join(', '), 'no cases found (expected one folder per case holding ct.nii.gz)');
  const allowed = options.kinds && new Set(options.kinds);
  const skipped: LoadedScans['skipped'] = [];
  const kept = entries.filter((entry) => {
    if (!allowed) return true;
    const kinds = caseLesionKinds(entry);
    const outside = (kinds ?? []).filter((k) => !allowed.has(k));
    if (outside.length) skipped.push({ id: entry.id, kinds: [...new Set(outside)] });
    return outside.length === 0;
  });
  if (kept.length === 0) throw new DataError(dirs.join(', '), 'every case was left out by --kinds');
  const scans: TrainingScan[] = [];
  const failed: LoadedScans['failed'] = [];
  kept.forEach((entry, i) => {
    const hits = cache.hits;
    try {
      // Training uses no labels: the case is read without its lesion mask, so a bad mask cannot stop it.
      const { scan } = cache.get({ ...entry, lesionPath: undefined });
      scans.push({ id: entry.id, data: scan.image.data, shape: scan.image.shape, spacing: scan.image.spacing });
    } catch (error) {
      failed.push({ id: entry.id, error: error instanceof Error ? error.message : String(error) });
    }
    options.onCase?.(entry, i, kept.length, cache.hits > hits);
  });
  if (scans.length === 0) {
    throw new DataError(dirs.join(', '), `no scan could be read:\n${failed.map((f) => `  ${f.id}: ${f.error}`).join('\n')}`);
  }
  return { scans, skipped, failed };
}
