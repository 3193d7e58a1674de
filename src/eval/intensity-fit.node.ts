// Fitting the intensity baseline on a data folder (Node): every case's CT is preprocessed (through the
// cache when one is given) and its body voxels enter the atlas. Lesion masks are never read.
import { PreprocessedCache } from '../data/preprocess/cache.node';
import { listCases } from '../data/io/dataset.node';
import { DataError } from '../data/errors';
import { readNifti } from '../data/io/files.node';
import { preprocessCt, type PreprocessRequest } from '../data/preprocess/preprocess';
import { requirePlausibleCt } from '../data/geometry/plausible-geometry';
import { ATLAS_CELLS, IntensityAtlas, type ScanForBaseline } from './intensity-baseline';
import { ProgressBar, type ProgressSink } from './progress';

export function fitIntensityAtlas(
  roots: string[],
  preprocess: PreprocessRequest,
  options: { cacheDir?: string; progress?: ProgressSink | null; maxCases?: number; forceGeometry?: boolean } = {},
): IntensityAtlas {
  const entries = roots.flatMap((root) => listCases(root)).slice(0, options.maxCases ?? Infinity);
  if (entries.length === 0) throw new DataError(roots.join(', '), 'no case folder (with ct.nii.gz) to fit the intensity baseline on');
  const force = options.forceGeometry === true;
  const cache = options.cacheDir ? new PreprocessedCache(options.cacheDir, preprocess, force) : null;
  const bar = new ProgressBar(options.progress ?? null, 'fit intensity baseline', 'scans');
  const preprocessUncached = (path: string) => {
    const ct = readNifti(path);
    requirePlausibleCt(ct, path, force);
    return preprocessCt(ct, path, preprocess);
  };
  function* scans(): Generator<ScanForBaseline> {
    for (const [k, entry] of entries.entries()) {
      const scan = cache ? cache.get(entry).scan : preprocessUncached(entry.ctPath);
      yield { data: scan.image.data, shape: scan.image.shape, body: scan.body.data };
      bar.update(k + 1, entries.length, entry.id);
    }
  }
  return IntensityAtlas.fit(scans(), ATLAS_CELLS);
}
