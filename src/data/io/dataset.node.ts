// Folder datasets in the layout of ../shared/data/ct: one folder per case holding ct.nii.gz (or ct.nii)
// and, where known, lesion.nii.gz; folders may be grouped in further folders at any depth.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DataError } from '../errors';
import { readMask, readNifti } from './files.node';
import type { NiftiVolume } from './nifti';
import type { Volume } from '../geometry/volume';

export interface CaseEntry {
  /** Path of the case folder relative to the dataset root, with '/' separators (e.g. "openkbp-train/pt_1"). */
  id: string;
  dir: string;
  ctPath: string;
  lesionPath?: string;
}

function firstExisting(dir: string, names: string[]): string | undefined {
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Every case folder under root, sorted by id. */
export function listCases(root: string): CaseEntry[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new DataError(root, 'no such folder');
  const cases: CaseEntry[] = [];
  const visit = (dir: string) => {
    const ctPath = firstExisting(dir, ['ct.nii.gz', 'ct.nii']);
    if (ctPath) {
      const lesionPath = firstExisting(dir, ['lesion.nii.gz', 'lesion.nii']);
      cases.push({ id: relative(root, dir).split(/[\\/]/).join('/') || '.', dir, ctPath, ...(lesionPath ? { lesionPath } : {}) });
      return;
    }
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path);
    }
  };
  visit(root);
  cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return cases;
}

export interface LoadedCase {
  entry: CaseEntry;
  ct: NiftiVolume;
  /** The lesion mask, checked to lie on the CT's grid and to be non-empty. */
  lesion?: Volume<Uint8Array>;
}

export function loadCase(entry: CaseEntry): LoadedCase {
  const ct = readNifti(entry.ctPath);
  const lesion = entry.lesionPath ? readMask(entry.lesionPath, ct, entry.ctPath) : undefined;
  return { entry, ct, ...(lesion ? { lesion } : {}) };
}
