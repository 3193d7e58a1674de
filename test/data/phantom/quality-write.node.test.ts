// Writing the quality set's splits: a test case and its scan without lesions come from one generation
// and are the very cases the per-split generator gives; cases already there are kept, stray quality-set
// cases removed, and a folder the set did not write is refused before anything is changed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNifti } from '../../../src/data/io/files.node';
import { generateQualityCase, generateQualityTestPair } from '../../../src/data/phantom/quality-set';
import { writeQualitySplits } from '../../../src/data/phantom/write.node';

const root = mkdtempSync(join(tmpdir(), 'quality-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeQualitySplits', () => {
  it('gives a test case and its source from one generation, equal to the cases generated alone', () => {
    const pair = generateQualityTestPair(2, 40);
    expect(Array.from(pair.test.ct.data)).toEqual(Array.from(generateQualityCase('test', 2, 40).ct.data));
    expect(Array.from(pair.source.ct.data)).toEqual(Array.from(generateQualityCase('test-source', 2, 40).ct.data));
    expect(pair.source.lesions).toEqual([]);
  });

  it('writes test and test-source together, keeps what is there, removes stray cases, refuses foreign folders', () => {
    const dirs = { test: join(root, 'test'), source: join(root, 'test-source'), healthy: join(root, 'healthy') };
    const targets = (count: number) => [
      { split: 'test', dir: dirs.test, count },
      { split: 'test-source', dir: dirs.source, count },
      { split: 'healthy', dir: dirs.healthy, count: 1 },
    ] as const;
    const first = writeQualitySplits(targets(2), 40);
    expect(first.map((w) => w.length)).toEqual([2, 2, 1]);
    const written = readNifti(join(dirs.source, 'case_001', 'ct.nii.gz'));
    expect(Array.from(written.data)).toEqual(Array.from(generateQualityCase('test-source', 1, 40).ct.data));
    expect(existsSync(join(dirs.test, 'case_001', 'lesion.nii.gz'))).toBe(true);
    expect(existsSync(join(dirs.source, 'case_001', 'lesion.nii.gz'))).toBe(false);

    // Only the source of case 0 is missing: it alone is written, and the test case is left as it was.
    const before = statSync(join(dirs.test, 'case_000', 'ct.nii.gz')).mtimeMs;
    rmSync(join(dirs.source, 'case_000'), { recursive: true });
    expect(writeQualitySplits(targets(2), 40)).toEqual([[], [join(dirs.source, 'case_000')], []]);
    expect(statSync(join(dirs.test, 'case_000', 'ct.nii.gz')).mtimeMs).toBe(before);

    // Fewer cases: the ones past the count go.
    expect(writeQualitySplits(targets(1), 40)).toEqual([[], [], []]);
    expect(existsSync(join(dirs.test, 'case_001'))).toBe(false);
    expect(existsSync(join(dirs.source, 'case_001'))).toBe(false);

    // A case folder the set did not write, in the last folder: refused, and the earlier folders untouched.
    mkdirSync(join(dirs.healthy, 'case_007'));
    writeFileSync(join(dirs.healthy, 'case_007', 'case.json'), '{}');
    expect(() => writeQualitySplits(targets(2), 40)).toThrow(/healthy[/\\]case_007: is not a case of the quality set/);
    expect(existsSync(join(dirs.test, 'case_001'))).toBe(false);
    expect(readFileSync(join(dirs.healthy, 'case_007', 'case.json'), 'utf8')).toBe('{}');
  });
});
