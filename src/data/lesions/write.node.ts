// Writes one case with inserted lesions in the data-folder layout: ct.nii.gz on the source scan's
// grid, affine and voxel type; lesion.nii.gz (uint8) marking the inserted lesions only, when any was
// placed; case.json describing each lesion and the seed; optionally one preview PNG per lesion.
// case.json is written last, so a case folder holding it is complete.
import { join } from 'node:path';
import { writeFileAtomic, writeNifti } from '../io/files.node';
import type { NiftiVolume } from '../io/nifti';
import { datatypeOfArray } from '../io/nifti-types';
import type { VoxelArray } from '../geometry/volume';
import { LESION_RULES, type InsertResult } from './insert';
import { lesionPreview } from './preview';

export const INSERT_LESIONS_GENERATOR = 'screener insert-lesions';

export interface InsertedCaseInfo {
  /** Case id (folder path under the data folder) and the scan the lesions went into. */
  id: string;
  source: string;
  seed: number;
}

export function writeInsertedCase(dir: string, source: NiftiVolume, result: InsertResult<VoxelArray>, info: InsertedCaseInfo, options: { png?: boolean } = {}): string[] {
  const files: string[] = [];
  // A scan stored with scl_slope/scl_inter decodes to floats; storing those as float32 loses nothing,
  // while any other scan keeps its own type (int16 stays int16).
  const datatype = datatypeOfArray(result.ct.data);
  const geometry = { qformCode: source.qformCode, sformCode: source.sformCode };
  const ctPath = join(dir, 'ct.nii.gz');
  writeNifti(ctPath, result.ct, { ...geometry, datatype, description: `screener insert-lesions seed ${info.seed}` });
  files.push(ctPath);
  if (result.lesions.length > 0) {
    const lesionPath = join(dir, 'lesion.nii.gz');
    writeNifti(lesionPath, result.mask, { ...geometry, datatype: 'uint8', description: 'inserted lesions' });
    files.push(lesionPath);
  }
  if (options.png) {
    for (const lesion of result.lesions) {
      const path = join(dir, `lesion_${lesion.index}.png`);
      writeFileAtomic(path, lesionPreview(result.ct, result.mask, lesion.centreVoxel).toPng());
      files.push(path);
    }
  }
  const meta = {
    generator: INSERT_LESIONS_GENERATOR,
    case: info.id,
    source: info.source,
    seed: info.seed,
    caseSeed: result.caseSeed,
    shape: result.ct.shape,
    spacingMm: result.ct.spacing,
    datatype,
    softTissueVoxels: result.softVoxels,
    requested: result.requested,
    placed: result.lesions.length,
    rules: LESION_RULES,
    lesions: result.lesions,
    skipped: result.skipped,
  };
  const jsonPath = join(dir, 'case.json');
  writeFileAtomic(jsonPath, new TextEncoder().encode(formatJson(meta)));
  files.push(jsonPath);
  return files;
}

/** Indented JSON with lists of numbers on one line and four decimals (plenty for mm and HU), to stay readable. */
function formatJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? +v.toFixed(4) : v), 2);
  return text.replace(/\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g, (_m, inner: string) => `[${inner.split(/,\s+/).join(', ')}]`) + '\n';
}
