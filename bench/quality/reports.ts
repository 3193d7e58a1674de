// `npm run bench -- reports merge|table|paired`: `screener eval --json` reports of several seeds and recipes
// compared as the quality benchmark compares them (src/eval/seeds.ts: per case the mean over a recipe's
// seeds, then the mean over cases with its bootstrap interval), for models scored elsewhere, e.g. in
// parallel processes on a GPU machine (scripts/gpu-train-knn.sh).
import { readFileSync } from 'node:fs';
import { UsageError } from '../../src/cli/args';
import { writeFileAtomic } from '../../src/data/io/files.node';
import { pairedDifferenceInterval } from '../../src/eval/bootstrap';
import type { MethodResult } from '../../src/eval/evaluate';
import { ALL_CASES } from '../../src/eval/report';
import { seedAveraged, seedStatistic } from '../../src/eval/seeds';

export const REPORTS_USAGE = `usage: npm run bench -- reports merge OUT.json PART.json...
       npm run bench -- reports table SEED.json...
       npm run bench -- reports paired A0.json,A1.json,... B0.json,B1.json,...

  merge    one report from the reports of disjoint case groups (each case's values; diceFixed and
           lesionRecall keep the thresholds chosen inside each part)
  table    per method and kind group, the mean over cases of the seeds' mean with its 95 % interval
  paired   per method, kind group and metric, recipe B minus recipe A paired by case (each side the
           seeds' mean), with its 95 % interval
The kind groups are the trained and the held-out kinds, then each lesion kind where the reports hold
them (screener eval --per-kind); reports whose cases have no kind groups compare all lesions.
A report argument may also be PART.json+PART.json... (merged as it is read). METRICS (environment,
default auroc,aupro30,diceBest) chooses the metrics.`;

const KIND_GROUPS = ['trained kinds', 'held-out kinds'];
/** Per method, what a report's per-case comparison needs; a merged report keeps no means of its parts. */
type Methods = Record<string, Pick<MethodResult, 'description' | 'cases'>>;

/** One report from one file or from parts joined by "+", its cases sorted by id; a case in two parts is refused. */
export function readReport(arg: string, read: (path: string) => string = (path) => readFileSync(path, 'utf8')): Methods {
  const methods: Methods = {};
  for (const path of arg.split('+')) {
    let part: { methods?: Methods };
    try {
      part = JSON.parse(read(path)) as { methods?: Methods };
    } catch (error) {
      throw new UsageError(`${path}: ${(error as Error).message}`);
    }
    if (!part.methods) throw new UsageError(`${path}: not a screener eval --json report (no "methods")`);
    for (const [name, method] of Object.entries(part.methods)) {
      (methods[name] ??= { description: method.description, cases: [] }).cases.push(...method.cases);
    }
  }
  for (const [name, method] of Object.entries(methods)) {
    method.cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (new Set(method.cases.map((c) => c.id)).size !== method.cases.length) throw new UsageError(`${arg}: a case of ${name} is in more than one part`);
  }
  return methods;
}

/**
 * The groups to report: the two kind groups, then every lesion kind of `eval --per-kind` the reports hold, as
 * first met; all lesions of a case where no case is split into groups (cases without kinds, e.g. real CT).
 */
export function groupsOf(reports: Methods[]): string[] {
  const kinds = new Set<string>();
  let grouped = false;
  for (const report of reports)
    for (const method of Object.values(report))
      for (const result of method.cases)
        for (const group of Object.keys(result.groups ?? {})) {
          grouped = true;
          if (!KIND_GROUPS.includes(group)) kinds.add(group);
        }
  return grouped ? [...KIND_GROUPS, ...kinds] : [ALL_CASES];
}

const fixed = (v: number, sign = false) => `${sign && v >= 0 ? '+' : ''}${v.toFixed(3)}`;

/** The lines of `table` for runs of one recipe (one report per seed). */
export function seedTable(seeds: Methods[], metrics: readonly string[]): string[] {
  const lines: string[] = [];
  const groups = groupsOf(seeds);
  for (const method of Object.keys(seeds[0]!))
    for (const group of groups) {
      const cells = metrics.map((metric) => {
        const s = seedStatistic(seeds.map((r) => r[method]!), group, metric as never);
        return s ? `${metric} ${fixed(s.mean)} [${fixed(s.interval[0])}, ${fixed(s.interval[1])}]` : `${metric} -`;
      });
      lines.push(`${method.padEnd(20)} ${group.padEnd(15)} ${cells.join('  ')}`);
    }
  return lines;
}

/** The lines of `paired`: recipe B minus recipe A on the cases both scored, each side averaged over its seeds. */
export function pairedTable(a: Methods[], b: Methods[], metrics: readonly string[]): string[] {
  const lines: string[] = [];
  const groupsOfB = groupsOf(b);
  const groups = groupsOf(a).filter((group) => groupsOfB.includes(group)); // a lesion kind only where both recipes report it
  for (const method of Object.keys(a[0]!))
    for (const group of groups)
      for (const metric of metrics) {
        const before = seedAveraged(a.map((r) => r[method]!), group, metric as never);
        const after = seedAveraged(b.map((r) => r[method]!), group, metric as never);
        if (before.size === 0 && after.size === 0) continue; // no case of this group has the metric
        const ids = [...before.keys()].filter((id) => after.has(id));
        if (ids.length !== before.size || ids.length !== after.size) throw new UsageError(`${method}, ${group}: the two recipes' reports hold different cases`);
        const x = ids.map((id) => before.get(id)!), y = ids.map((id) => after.get(id)!);
        const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
        const [lo, hi] = pairedDifferenceInterval(y, x)!;
        lines.push(`${method.padEnd(20)} ${group.padEnd(15)} ${metric.padEnd(9)} ${fixed(mean(x))} -> ${fixed(mean(y))}  ${fixed(mean(y) - mean(x), true)} [${fixed(lo, true)}, ${fixed(hi, true)}]  (${ids.length} cases)`);
      }
  return lines;
}

export async function runReports(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(REPORTS_USAGE);
    return 0;
  }
  const metrics = (process.env.METRICS ?? 'auroc,aupro30,diceBest').split(',');
  if (command === 'merge' && args.length >= 2) {
    const [out, ...parts] = args as [string, ...string[]];
    if (parts.includes(out)) throw new UsageError(`merge: the output ${out} is one of its inputs`);
    const methods = readReport(parts.join('+'));
    const note = 'per-case values of disjoint case groups; diceFixed and lesionRecall took their thresholds inside each part';
    writeFileAtomic(out, new TextEncoder().encode(JSON.stringify({ mergedFrom: parts, note, methods }, null, 1)));
    console.log(`${out}: ${Object.values(methods)[0]?.cases.length ?? 0} cases from ${parts.length} reports`);
    return 0;
  }
  if (command === 'table' && args.length >= 1) {
    console.log(seedTable(args.map((arg) => readReport(arg)), metrics).join('\n'));
    return 0;
  }
  if (command === 'paired' && args.length === 2) {
    const [a, b] = args.map((list) => list.split(',').map((arg) => readReport(arg)));
    console.log(pairedTable(a!, b!, metrics).join('\n'));
    return 0;
  }
  const known = ['merge', 'table', 'paired'].includes(command);
  throw new UsageError(`reports: ${known ? `${command} needs other arguments` : `no command "${command}"`}\n${REPORTS_USAGE}`);
}
