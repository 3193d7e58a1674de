// The Node run's JSON report (vitest.config.ts has vitest write it here), and each test file's duration
// in it, by which the Chromium runner (test/browser/run.mjs) starts the longest files first.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const NODE_TEST_REPORT = '.cache/node-test-report.json';

/** Seconds per repository-relative test file in the last Node run, or null without a readable report. */
export function nodeTestSeconds(root) {
  try {
    const report = JSON.parse(readFileSync(path.join(root, NODE_TEST_REPORT), 'utf8'));
    return new Map(report.testResults.map((r) => [path.relative(root, r.name).split(path.sep).join('/'), (r.endTime - r.startTime) / 1000]));
  } catch {
    return null;
  }
}
