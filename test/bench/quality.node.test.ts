// `npm run bench -- quality` end to end at the smallest size: two test phantoms, one seed of a tiny
// recipe at a coarse voxel size, trained for two steps. It must write the report with Screener, the
// baseline and their paired difference per lesion group, and a second run must reuse the trained
// model and the scores instead of doing the work again.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../helpers/run-command';
import { QUALITY_OPTIONS, QUALITY_USAGE, runQualityBenchmark } from '../../bench/quality/run';

const root = mkdtempSync(join(tmpdir(), 'screener-quality-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = (argv: string[]) => runCaptured(runQualityBenchmark, argv);

const argv = (json: string, size = 32) => ['--cases', '2', '--healthy', '1', '--train-cases', '2', '--size', String(size), '--spacing', '12', '--steps', '2', '--seeds', '1', '--out', join(root, 'q'), '--json', json];

describe('quality benchmark', () => {
  it('trains a seed, scores it beside the intensity baseline with intervals, and reuses both on the next run', async () => {
    const first = await run(argv(join(root, 'first.json')));
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/seed 0: training/);
    for (const row of ['Screener', 'intensity baseline', 'Screener - baseline']) expect(first.out).toMatch(new RegExp(`\\| all lesions +\\| ${row} `));
    expect(first.out).not.toMatch(/Screener \+ intensity/);
    expect(first.out).toMatch(/\| trained kinds +\| Screener /);
    const report = JSON.parse(readFileSync(join(root, 'first.json'), 'utf8'));
    expect(report.recipe).toMatchObject({ preset: 'tiny', spacingMm: 12, pool: 2, density: 'flow', condition: 'masked', stepsPerStage: 2 });
    expect(report.runs).toHaveLength(1);
    expect(report.runs[0].seed).toBe(0);
    // The training time is the steps' own, as the loss CSV beside the model records them.
    const csv = readFileSync(join(root, 'q', 'models', 'tiny-12mm-pool2-flow-masked-2', 'size32-train2', 's0.losses.csv'), 'utf8');
    const stepSeconds = csv.trim().split('\n').slice(1).map((row) => Number(row.split(',')[4]));
    expect(stepSeconds).toHaveLength(6);
    expect(report.runs[0].trainSeconds).toBeGreaterThan(0);
    expect(report.runs[0].trainSeconds).toBeCloseTo(stepSeconds.reduce((a, b) => a + b, 0), 9);
    expect(report.runs[0].method.cases.map((c: { id: string }) => c.id)).toEqual(['case_000', 'case_001']);
    const auroc = report.summary['all lesions'].auroc;
    expect(auroc.screener.cases).toBe(2);
    expect(auroc.screener.interval[0]).toBeLessThanOrEqual(auroc.screener.mean);
    expect(auroc.screener.interval[1]).toBeGreaterThanOrEqual(auroc.screener.mean);
    expect(auroc.difference.mean).toBeCloseTo(auroc.screener.mean - auroc.intensity.mean, 10);
    const model = join(root, 'q', 'models', 'tiny-12mm-pool2-flow-masked-2', 'size32-train2', 's0.safetensors');
    expect(existsSync(model)).toBe(true);

    const second = await run(argv(join(root, 'second.json')));
    expect(second.code).toBe(0);
    expect(second.err).not.toMatch(/seed 0: (training|resuming)/);
    const again = JSON.parse(readFileSync(join(root, 'second.json'), 'utf8'));
    expect(again.summary).toEqual(report.summary);

    // --combined adds Screener + intensity from the same seed; Screener's own scores are kept, not redone.
    const combined = await run([...argv(join(root, 'combined.json')), '--combined']);
    expect(combined.code).toBe(0);
    expect(combined.err).not.toMatch(/seed 0: (training|resuming)/);
    for (const row of ['Screener + intensity', 'Screener + intensity - baseline']) expect(combined.out).toMatch(new RegExp(`\\| trained kinds +\\| ${row.replace('+', '\\+')} `));
    const withCombined = JSON.parse(readFileSync(join(root, 'combined.json'), 'utf8'));
    expect(withCombined.summary).toEqual(report.summary);
    expect(withCombined.combinedRuns[0].method.name).toBe('screener+intensity');
    const both = withCombined.combinedSummary['all lesions'].auroc;
    expect(both.combined.cases).toBe(2);
    expect(both.difference.mean).toBeCloseTo(both.combined.mean - auroc.intensity.mean, 10);

    // --presence also scores each test phantom without its lesions: presence and placement per lesion
    // group beside the other metrics, for Screener and the baseline alike.
    const presence = await run([...argv(join(root, 'presence.json')), '--presence']);
    expect(presence.code).toBe(0);
    expect(presence.err).not.toMatch(/seed 0: (training|resuming)/);
    expect(existsSync(join(root, 'q', 'phantoms-32', 'test-source', 'case_001', 'ct.nii.gz'))).toBe(true);
    expect(presence.out).toMatch(/ lesion presence \| +placement \|$/m);
    expect(presence.out).toMatch(/Lesion presence: AUROC of the lesions' voxels/);
    const withPresence = JSON.parse(readFileSync(join(root, 'presence.json'), 'utf8'));
    const cases = withPresence.runs[0].method.cases as { presence: number; groups: Record<string, { presence?: number }> }[];
    expect(cases).toHaveLength(2);
    for (const c of cases) expect(c.presence).toBeGreaterThanOrEqual(0);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(withPresence.summary['all lesions'].presence.screener.mean).toBeCloseTo(mean(cases.map((c) => c.presence)), 10);
    expect(withPresence.summary['trained kinds'].presence.screener.mean).toBeCloseTo(mean(cases.map((c) => c.groups['trained kinds']!.presence!)), 10);
    expect(withPresence.summary['trained kinds'].placement.intensity.cases).toBe(2);
    // The maps of the scans with lesions are the same, so every other figure is too.
    for (const group of Object.keys(report.summary)) expect(withPresence.summary[group].auroc).toEqual(report.summary[group].auroc);
    expect(report.summary['all lesions'].presence).toBeUndefined();
    // Scores with presence hold the others: a run without --presence takes them where it has none of its own.
    const results = join(root, 'q', 'results');
    for (const f of readdirSync(results, { recursive: true, encoding: 'utf8' })) if (f.endsWith('.json') && !f.includes('-presence')) rmSync(join(results, f));
    const reused = await run(argv(join(root, 'reused.json')));
    expect(reused.code).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'reused.json'), 'utf8')).summary).toEqual(withPresence.summary);

    // Other phantoms are another benchmark: nothing kept for the first set is taken for them.
    const other = await run(argv(join(root, 'other.json'), 36));
    expect(other.code).toBe(0);
    expect(other.err).toMatch(/seed 0: training/);
    expect(existsSync(join(root, 'q', 'models', 'tiny-12mm-pool2-flow-masked-2', 'size36-train2', 's0.safetensors'))).toBe(true);
  });

  it('prints its usage, made from its option specs, on --help or -h, and does no work', async () => {
    for (const flag of ['--help', '-h']) {
      const help = await run(['--out', join(root, 'help'), flag]);
      expect(help.code).toBe(0);
      expect(help.out).toBe(QUALITY_USAGE);
      for (const name of Object.keys(QUALITY_OPTIONS)) expect(help.out).toMatch(new RegExp(`^  --${name}\\b`, 'm'));
    }
    expect(existsSync(join(root, 'help'))).toBe(false);
  });

  it('refuses options it cannot honour before any work', async () => {
    await expect(run(['--cases', '1', '--out', join(root, 'bad')])).rejects.toThrow(/--cases must be at least 2/);
    await expect(run(['--pool', '5', '--out', join(root, 'bad')])).rejects.toThrow(/--pool must be/);
    await expect(run(['stray', '--out', join(root, 'bad')])).rejects.toThrow(/unexpected argument "stray"/);
    await expect(run(['--density', 'knn', '--condition', 'masked', '--out', join(root, 'bad')])).rejects.toThrow(/a knn density is unconditioned/);
    await expect(run(['--density', 'mixture', '--out', join(root, 'bad')])).rejects.toThrow(/--density must be one of gaussian, flow, knn/);
    await expect(run(['--bank-size', '16384', '--out', join(root, 'bad')])).rejects.toThrow(/--bank-size is for a knn density \(--density knn\); this run trains a flow density/);
    await expect(run(['--density', 'knn', '--bank-size', '0', '--out', join(root, 'bad')])).rejects.toThrow(/--bank-size must be from 1 to 1048576/);
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });

  it('never replaces or removes a case folder that the quality set did not write', async () => {
    const foreign = join(root, 'foreign', 'phantoms-32', 'test', 'case_005');
    mkdirSync(foreign, { recursive: true });
    writeFileSync(join(foreign, 'case.json'), '{"seed": 1}');
    await expect(run(argv(join(root, 'foreign.json')).map((a) => (a === join(root, 'q') ? join(root, 'foreign') : a)))).rejects.toThrow(/case_005: is not a case of the quality set/);
    expect(readFileSync(join(foreign, 'case.json'), 'utf8')).toBe('{"seed": 1}');
  });
});
