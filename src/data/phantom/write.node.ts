// Writes one phantom case in the data-folder layout: ct.nii.gz, and unless healthy lesion.nii.gz,
// lesion_kinds.nii.gz (label = kind index + 1) and case.json describing each lesion; optionally a PNG montage.
import { join } from 'node:path';
import { writeFileAtomic, writeNifti } from '../files.node';
import { renderMontage } from '../montage';
import { HELD_OUT_LESION_KINDS, LESION_KINDS } from './lesions';
import type { Phantom } from './phantom';

export interface WrittenCase {
  dir: string;
  files: string[];
}

export function writePhantomCase(dir: string, phantom: Phantom, options: { png?: boolean; seed?: number } = {}): WrittenCase {
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
