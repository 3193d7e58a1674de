// `npm run bench -- reports`: eval reports of case groups merge into one, a recipe's seeds are averaged per
// case before the mean over cases, and two recipes are compared on the cases both scored.
import { describe, expect, it } from 'vitest';
import { pairedTable, readReport, seedTable } from '../../bench/quality/reports';

/** A report of one method whose cases have an AUROC in the trained-kinds group. */
function report(values: Record<string, number>): string {
  const cases = Object.entries(values).map(([id, auroc]) => ({ id, auroc, groups: { 'trained kinds': { auroc } } }));
  return JSON.stringify({ methods: { screener: { description: 'd', cases } } });
}

describe('quality benchmark reports', () => {
  const files: Record<string, string> = {
    'a.json': report({ c2: 0.6, c1: 0.8 }),
    'b.json': report({ c3: 0.7 }),
    's0.json': report({ c1: 0.5, c2: 0.7, c3: 0.6 }),
    's1.json': report({ c1: 0.7, c2: 0.9, c3: 0.8 }),
  };
  const read = (path: string) => {
    if (!(path in files)) throw new Error(`ENOENT: ${path}`);
    return files[path]!;
  };

  it('merges parts into one report sorted by case and refuses a case in two parts or a file that is not a report', () => {
    expect(readReport('b.json+a.json', read).screener!.cases.map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(() => readReport('a.json+a.json', read)).toThrow(/a\.json\+a\.json: a case of screener is in more than one part/);
    expect(() => readReport('none.json', read)).toThrow(/none\.json: ENOENT/);
    files['x.json'] = '{"cases": []}';
    expect(() => readReport('x.json', read)).toThrow(/x\.json: not a screener eval --json report/);
  });

  it('averages the seeds per case, then compares two recipes paired by case', () => {
    const seeds = [readReport('s0.json', read), readReport('s1.json', read)];
    const [trained] = seedTable(seeds, ['auroc']);
    expect(trained).toMatch(/^screener\s+trained kinds\s+auroc 0\.700 \[0\.\d{3}, 0\.\d{3}\]$/);
    const [paired] = pairedTable([readReport('a.json+b.json', read)], seeds, ['auroc']);
    // Per case: 0.6 - 0.8, 0.8 - 0.6, 0.7 - 0.7.
    expect(paired).toMatch(/^screener\s+trained kinds\s+auroc\s+0\.700 -> 0\.700  \+0\.000 \[-0\.\d{3}, \+0\.\d{3}\]  \(3 cases\)$/);
    expect(() => pairedTable([readReport('a.json', read)], seeds, ['auroc'])).toThrow(/hold different cases/);
  });

  it('reports each lesion kind of eval --per-kind after the two kind groups, over the cases that hold it', () => {
    const kinds = (id: string, auroc: number, liver?: number) => ({
      id,
      auroc,
      groups: { 'trained kinds': { auroc }, ...(liver === undefined ? {} : { 'kind liver_hypodense': { auroc: liver } }) },
    });
    files['k0.json'] = JSON.stringify({ methods: { screener: { description: 'd', cases: [kinds('c1', 0.5, 0.9), kinds('c2', 0.7)] } } });
    files['k1.json'] = JSON.stringify({ methods: { screener: { description: 'd', cases: [kinds('c1', 0.7, 0.7), kinds('c2', 0.9)] } } });
    const seeds = [readReport('k0.json', read), readReport('k1.json', read)];
    const lines = seedTable(seeds, ['auroc']);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^screener\s+trained kinds\s+auroc 0\.700 /);
    expect(lines[1]).toMatch(/held-out kinds\s+auroc -$/);
    expect(lines[2]).toMatch(/kind liver_hypodense\s+auroc 0\.800 \[0\.800, 0\.800\]$/);
    const paired = pairedTable([seeds[0]!], [seeds[1]!], ['auroc']);
    expect(paired[1]).toMatch(/^screener\s+kind liver_hypodense\s+auroc\s+0\.900 -> 0\.700  -0\.200 \[-0\.200, -0\.200\]  \(1 cases\)$/);
    // Against reports without --per-kind: the kind groups only.
    files['n.json'] = report({ c1: 0.6, c2: 0.8 });
    expect(pairedTable([readReport('n.json', read)], [seeds[0]!], ['auroc'])).toHaveLength(1);
  });

  it('compares all lesions of each case where the cases have no kind groups', () => {
    const ungrouped = (values: Record<string, number>) =>
      JSON.stringify({ methods: { screener: { description: 'd', cases: Object.entries(values).map(([id, auroc]) => ({ id, auroc })) } } });
    files['u0.json'] = ungrouped({ c1: 0.5, c2: 0.6 });
    files['u1.json'] = ungrouped({ c1: 0.6, c2: 0.8 });
    const [a, b] = [readReport('u0.json', read), readReport('u1.json', read)];
    expect(seedTable([a], ['auroc'])).toEqual([expect.stringMatching(/^screener\s+all lesions\s+auroc 0\.550 /)]);
    expect(pairedTable([a], [b], ['auroc'])).toEqual([expect.stringMatching(/^screener\s+all lesions\s+auroc\s+0\.550 -> 0\.700  \+0\.150 \[\+0\.100, \+0\.200\]  \(2 cases\)$/)]);
  });
});
