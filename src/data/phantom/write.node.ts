// Writes one phantom case in the data-folder layout: ct.nii.gz, and unless healthy lesion.nii.gz,
// lesion_kinds.nii.gz (label = kind index + 1) and case.json describing each lesion; optionally a PNG montage.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeNifti } from '../io/files.node';
import { renderMontage } from '../render/montage';
import { DataError } from '../errors';
import { HELD_OUT_LESION_KINDS, LESION_KINDS } from './lesions';
import type { Phantom } from './phantom';
import { phantomCaseName } from './cases';
import { generateQualityCase, generateQualityTestPair, qualityCaseSeed, type QualitySplit } from './quality-set';

export interface WrittenCase {
  dir: string;
  files: string[];
}

export function writePhantomCase(dir: string, phantom: Phantom, options: { png?: boolean; seed?: number; size?: number; set?: string } = {}): WrittenCase {
  const files: string[] = [];
  const write = (name: string, fn: (path: string) => void) => {
    const path = join(dir, name);
    fn(path);
    files.push(path);
  };
  write('ct.nii.gz', (p) => writeNifti(p, phantom.ct, { datatype: 'int16', description: 'screener phantom' }));
  if (phantom.lesions.length > 0) {
    write('lesion.nii.gz', (p) => writeNifti(p, phantom.lesion, { datatype: 'uint8' }));
    write('lesion_kinds.nii.gz', (p) => writeNifti(p, phantom.lesionKinds, { datatype: 'uint8' }));
  }
  const meta = {
    seed: options.seed,
    ...(options.size !== undefined ? { size: options.size } : {}),
    ...(options.set !== undefined ? { set: options.set } : {}),
    shape: phantom.ct.shape,
    spacing: phantom.ct.spacing.map((s) => +s.toFixed(4)),
    lesionKinds: LESION_KINDS,
    heldOutKinds: HELD_OUT_LESION_KINDS,
    lesions: phantom.lesions,
  };
  write('case.json', (p) => writeFileAtomic(p, new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n')));
  if (options.png) {
    const mask = phantom.lesions.length > 0 ? phantom.lesion : undefined;
    write('montage.png', (p) => writeFileAtomic(p, renderMontage(phantom.ct, { mask }).toPng()));
  }
  return { dir, files };
}

/** What case.json of a quality-set case says it is; only such folders are ever replaced or removed. */
export const QUALITY_SET_MARK = 'screener quality set';

/** One split of the quality set to write: `count` cases into `dir`. */
export interface QualitySplitTarget {
  split: QualitySplit;
  dir: string;
  count: number;
}

/**
 * Writes cases 0..count-1 of each quality-benchmark split into its folder (case_NNN folders), skipping
 * any whose case.json already records the same seed and grid size, so that a benchmark run reuses them;
 * quality-set case folders past `count` are removed, so each folder holds exactly the split asked for.
 * A case folder the quality set did not write is never touched: it is refused, naming it, before any
 * folder is changed. When `test` and `test-source` are both asked for, a case that either lacks is
 * generated once for both. Returns, per target, the case folders written.
 */
export function writeQualitySplits(targets: readonly QualitySplitTarget[], size: number): string[][] {
  for (const { dir } of targets) for (const name of caseFolders(dir)) {
    if (caseMeta(join(dir, name, 'case.json'))?.set !== QUALITY_SET_MARK) {
      throw new DataError(join(dir, name), 'is not a case of the quality set (its case.json does not say so): choose another folder, or move it away');
    }
  }
  const missing = targets.map(({ split, dir, count }) => {
    const wanted = new Set(Array.from({ length: count }, (_, i) => phantomCaseName(i)));
    for (const name of caseFolders(dir)) if (!wanted.has(name)) rmSync(join(dir, name), { recursive: true, force: true });
    return Array.from({ length: count }, (_, i) => i).filter((i) => {
      const meta = caseMeta(join(dir, phantomCaseName(i), 'case.json'));
      return !(meta?.seed === qualityCaseSeed(split, i) && meta.size === size);
    });
  });
  const written: string[][] = targets.map(() => []);
  const write = (t: number, index: number, phantom: Phantom) => {
    const caseDir = join(targets[t]!.dir, phantomCaseName(index));
    writePhantomCase(caseDir, phantom, { seed: qualityCaseSeed(targets[t]!.split, index), size, set: QUALITY_SET_MARK });
    written[t]!.push(caseDir);
  };
  const test = targets.findIndex((t) => t.split === 'test');
  const source = targets.findIndex((t) => t.split === 'test-source');
  if (test >= 0 && source >= 0) {
    for (const index of [...new Set([...missing[test]!, ...missing[source]!])].sort((a, b) => a - b)) {
      const pair = generateQualityTestPair(index, size);
      if (missing[test]!.includes(index)) write(test, index, pair.test);
      if (missing[source]!.includes(index)) write(source, index, pair.source);
    }
  }
  targets.forEach(({ split }, t) => {
    if (t === test && source >= 0) return;
    if (t === source && test >= 0) return;
    for (const index of missing[t]!) write(t, index, generateQualityCase(split, index, size));
  });
  return written;
}

function caseFolders(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => /^case_\d+$/.test(name)) : [];
}

function caseMeta(metaPath: string): { seed?: number; size?: number; set?: string } | null {
  if (!existsSync(metaPath)) return null;
  try {
    return JSON.parse(readFileSync(metaPath, 'utf8')) as { seed?: number; size?: number; set?: string };
  } catch {
    return null;
  }
}
