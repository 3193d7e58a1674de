#!/usr/bin/env node
// Reads `screener eval --json` reports of the quality phantoms (or any cases with kind groups) and
// compares recipes the way bench/RESULTS.md does: per case the mean over a recipe's seeds, then the
// mean over cases with a percentile bootstrap interval (2000 resamples, fixed seed).
//
//   node scripts/eval-reports.mjs merge OUT.json PART.json...      one report from reports of disjoint
//       case groups (scored in parallel processes, scripts/gpu-train-knn.sh); only the per-case values
//       travel: diceFixed and lesionRecall took their thresholds inside each part
//   node scripts/eval-reports.mjs table SEED.json...               per method and kind group, the mean
//       over cases of the seeds' mean, with its interval
//   node scripts/eval-reports.mjs paired A0.json,A1.json,... B0.json,B1.json,...   B minus A, paired by
//       case (the seeds' means), with its interval
// A report's argument may also be PART.json+PART.json... (merged on the fly). METRICS (environment,
// default auroc,aupro30,diceBest) chooses the metrics.
import { readFileSync, writeFileSync } from 'node:fs';

const metrics = (process.env.METRICS ?? 'auroc,aupro30,diceBest').split(',');
const groups = ['trained kinds', 'held-out kinds'];

function read(arg) {
  const parts = arg.split('+').map((file) => JSON.parse(readFileSync(file, 'utf8')));
  const methods = {};
  for (const part of parts)
    for (const [name, method] of Object.entries(part.methods))
      (methods[name] ??= { description: method.description, cases: [] }).cases.push(...method.cases);
  for (const method of Object.values(methods)) {
    method.cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const ids = method.cases.map((c) => c.id);
    if (new Set(ids).size !== ids.length) throw new Error(`${arg}: a case appears in more than one part`);
  }
  return { methods, parts: arg.split('+') };
}

// A linear congruential generator: the same intervals on every run.
function bootstrap(values) {
  let state = 1;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const means = [];
  for (let i = 0; i < 2000; i++) {
    let sum = 0;
    for (let j = 0; j < values.length; j++) sum += values[Math.floor(next() * values.length)];
    means.push(sum / values.length);
  }
  means.sort((a, b) => a - b);
  return [means[49], means[1950]];
}

const mean = (values) => values.reduce((s, v) => s + v, 0) / values.length;
const fmt = (v, sign = false) => `${sign && v >= 0 ? '+' : ''}${v.toFixed(3)}`;

/** Per case of a group, the mean over seeds of one metric; only cases every seed scored. */
function seedMeans(seeds, method, group, metric) {
  const byId = seeds.map((s) => new Map(s.methods[method].cases.filter((c) => c.groups?.[group]).map((c) => [c.id, c.groups[group][metric]])));
  const ids = [...byId[0].keys()].filter((id) => byId.every((m) => m.has(id)));
  if (ids.length < byId[0].size) throw new Error(`${method}, ${group}: the seeds' reports hold different cases`);
  return new Map(ids.map((id) => [id, mean(byId.map((m) => m.get(id)))]));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'merge') {
  const [out, ...inputs] = args;
  const merged = read(inputs.join('+'));
  writeFileSync(out, JSON.stringify({ mergedFrom: merged.parts, note: 'per-case values of disjoint case groups; diceFixed and lesionRecall took their thresholds inside each part', methods: merged.methods }, null, 1));
  console.log(`${out}: ${Object.values(merged.methods)[0].cases.length} cases from ${inputs.length} reports`);
} else if (command === 'table') {
  const seeds = args.map(read);
  for (const method of Object.keys(seeds[0].methods))
    for (const group of groups) {
      const cells = metrics.map((metric) => {
        const values = [...seedMeans(seeds, method, group, metric).values()];
        const [lo, hi] = bootstrap(values);
        return `${metric} ${fmt(mean(values))} [${fmt(lo)}, ${fmt(hi)}]`;
      });
      console.log(`${method.padEnd(20)} ${group.padEnd(15)} ${cells.join('  ')}`);
    }
} else if (command === 'paired') {
  const [a, b] = args.map((list) => list.split(',').map(read));
  for (const method of Object.keys(a[0].methods))
    for (const group of groups)
      for (const metric of metrics) {
        const before = seedMeans(a, method, group, metric), after = seedMeans(b, method, group, metric);
        const ids = [...before.keys()];
        if (ids.some((id) => !after.has(id))) throw new Error(`${method}, ${group}: A and B hold different cases`);
        const diffs = ids.map((id) => after.get(id) - before.get(id));
        const [lo, hi] = bootstrap(diffs);
        console.log(`${method.padEnd(20)} ${group.padEnd(15)} ${metric.padEnd(9)} ${fmt(mean(ids.map((id) => before.get(id))))} -> ${fmt(mean(ids.map((id) => after.get(id))))}  ${fmt(mean(diffs), true)} [${fmt(lo, true)}, ${fmt(hi, true)}]  (${ids.length} cases)`);
      }
} else {
  console.error('usage: node scripts/eval-reports.mjs merge OUT.json PART.json... | table SEED.json... | paired A,... B,...');
  process.exit(2);
}
