// `screener insert-lesions`: a validation set with known ground truth made from real scans: synthetic
// lesions inserted into every case of a data folder, written as a new data folder.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { intOption, stringOption, UsageError } from '../args';
import { defineCommand } from '../command';
import { isInside, resolveReal } from '../output-paths';
import { requirePlausibleCt } from '../../data/geometry/plausible-geometry';
import { listCases } from '../../data/io/dataset.node';
import { readNifti, writeFileAtomic } from '../../data/io/files.node';
import { insertLesions, LESION_RULES } from '../../data/lesions/insert';
import { INSERT_LESIONS_GENERATOR, writeInsertedCase } from '../../data/lesions/write.node';
import { counted } from '../../data/counted';

const r = LESION_RULES;

const spec = {
  data: { type: 'string', value: 'DIR', description: 'data folder: every case folder under it holding ct.nii.gz' },
  out: {
    type: 'string',
    value: 'DIR',
    description:
      'writes OUT/CASE/{ct.nii.gz, lesion.nii.gz, case.json} (ct on the source grid, affine and voxel type; ' +
      'lesion.nii.gz marks the inserted lesions only, never the source\'s own)',
  },
  seed: { type: 'string', value: 'S', description: 'seed; each case draws from (seed, case id)', default: 0 },
  'per-case': { type: 'string', value: 'N', description: 'at most N lesions per case, the number drawn in 1..N', default: 2 },
  limit: { type: 'string', value: 'N', description: 'only the first N cases (sorted by id)' },
  png: { type: 'boolean', description: 'also write OUT/CASE/lesion_K.png: three views through each lesion, soft-tissue window' },
  force: { type: 'boolean', description: 'replace the cases an earlier run wrote to --out (otherwise a folder with cases is refused)' },
  'force-geometry': {
    type: 'boolean',
    description:
      'insert into scans whose voxel size (0.1-20 mm) or extent (2 cm-2.5 m per side) is not a CT\'s, or that hold no air (no voxel at ' +
      'or below -500 HU); without it such a scan stops the run before anything is written',
  },
} as const;

export const insertLesionsCommand = defineCommand({
  name: 'insert-lesions',
  summary: 'insert synthetic lesions into real scans: a validation set with known lesion masks',
  synopsis: ['screener insert-lesions --data DIR --out DIR [--seed S] [--per-case N] [--limit N] [--png] [--force] [--force-geometry]'],
  options: spec,
  notes: [
    `Inserts 1..N synthetic lesions into each scan: smooth ellipsoids of ${r.diameterMm[0]}-${r.diameterMm[1]} mm ` +
      `(volume-equivalent diameter; each axis within about ±${r.radiusSpread * 100} %, random orientation), with a soft ` +
      `${r.edgeMm[0]}-${r.edgeMm[1]} mm edge, that change the tissue's own HU by ±${r.shiftHu[0]}-${r.shiftHu[1]} HU (hypo- or ` +
      `hyperdense, mean over the mask) plus their own smooth texture (${r.textureStdHu[0]}-${r.textureStdHu[1]} HU); the scanner's noise ` +
      `stays. Lesions lie in soft tissue inside the body (at least ${r.minSoftFraction * 100} % of their voxels; never changing ` +
      'air, lung or bone) and never overlap. The same seed gives the same files.',
    'Every scan is read and checked before the first case is written: soft tissue is found by its HU, so a scan that is ' +
      'unreadable, or whose values are not in HU, stops the run at once, named, with --out untouched.',
  ],
  async execute(args) {
    const data = stringOption(args, 'data');
    const out = stringOption(args, 'out');
    if (!data) throw new UsageError('--data is required');
    if (!out) throw new UsageError('--out is required');
    const seed = intOption(args, 'seed', spec.seed.default);
    const perCase = intOption(args, 'per-case', spec['per-case'].default);
    const limit = args.options.limit === undefined ? undefined : intOption(args, 'limit', 0);
    if (perCase < 1) throw new UsageError('--per-case must be at least 1');
    if (limit !== undefined && limit < 1) throw new UsageError('--limit must be at least 1');
    checkFolders(data, out);

    const cases = listCases(data).slice(0, limit);
    if (cases.length === 0) throw new Error(`${data}: no case folder with ct.nii.gz`);
    const forceGeometry = args.options['force-geometry'] === true;
    for (const entry of cases) requirePlausibleCt(readNifti(entry.ctPath), entry.ctPath, forceGeometry);
    prepareOut(out, args.options.force === true);

    const summary: { case: string; placed: number; skipped: number; diametersMm: number[] }[] = [];
    for (const entry of cases) {
      const started = performance.now();
      const source = readNifti(entry.ctPath);
      const result = insertLesions(source, { seed, caseId: entry.id, maxLesions: perCase });
      writeInsertedCase(join(out, entry.id), source, result, { id: entry.id, source: entry.ctPath, seed }, { png: args.options.png === true });
      const diameters = result.lesions.map((l) => l.diameterMm);
      summary.push({ case: entry.id, placed: result.lesions.length, skipped: result.skipped.length, diametersMm: diameters.map((d) => +d.toFixed(1)) });
      const sizes = result.lesions.map((l) => `${l.diameterMm.toFixed(1)} mm ${l.huShift > 0 ? '+' : ''}${l.huShift.toFixed(0)} HU`).join(', ');
      const skipped = result.skipped.length ? `, ${result.skipped.length} skipped: ${result.skipped[0]!.reason}` : '';
      console.log(`${entry.id}  ${result.lesions.length} placed (${sizes})${skipped}  ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const all = summary.flatMap((s) => s.diametersMm);
    const placed = all.length;
    const skipped = summary.reduce((n, s) => n + s.skipped, 0);
    const range = placed ? `, diameters ${Math.min(...all).toFixed(1)}-${Math.max(...all).toFixed(1)} mm` : '';
    console.log(`${counted(cases.length, 'case')}: ${counted(placed, 'lesion')} placed${range}, ${skipped} skipped; written to ${out}`);
    const report = { generator: INSERT_LESIONS_GENERATOR, data, seed, perCase, cases: summary.length, placed, skipped, rules: LESION_RULES, perCaseSummary: summary };
    writeFileAtomic(join(out, 'insert-lesions.json'), new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n'));
    return 0;
  },
});

/** The output must not mix with the source: writing into it would overwrite real scans. */
function checkFolders(data: string, out: string): void {
  const d = resolveReal(data);
  const o = resolveReal(out);
  if (isInside(o, d)) throw new UsageError(`--out ${out} lies inside --data ${data} (or is it); choose a folder outside the source data`);
  if (isInside(d, o)) throw new UsageError(`--data ${data} lies inside --out ${out}; choose an output folder that does not hold the source data`);
}

/**
 * Refuses an output folder that already holds cases, unless --force; with --force removes the cases an
 * earlier insert-lesions run wrote (so the folder holds this run alone), and refuses any other case.
 */
function prepareOut(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  const existing = listCases(out);
  if (existing.length === 0) return;
  if (!force) throw new Error(`${out}: already holds ${counted(existing.length, 'case')} (${existing[0]!.id}, ...); pass --force to replace them, or choose another folder`);
  const foreign = existing.filter((c) => !writtenByUs(join(c.dir, 'case.json')));
  if (foreign.length) {
    throw new Error(`${out}: holds ${counted(foreign.length, 'case')} not written by insert-lesions (${foreign[0]!.id}, ...); refusing to replace them even with --force`);
  }
  for (const c of existing) rmSync(c.dir, { recursive: true, force: true });
}

function writtenByUs(metaPath: string): boolean {
  try {
    return (JSON.parse(readFileSync(metaPath, 'utf8')) as { generator?: string }).generator === INSERT_LESIONS_GENERATOR;
  } catch {
    return false;
  }
}
