// The portable test files: every test/**/*.test.ts but the *.node.test.ts ones (those need the file
// system or the command line). The Chromium runner (run.mjs) and the bundled suite for plain Node
// (test/bundled/build.mjs) run exactly these, so both take the list from here.
import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Repository-relative paths, sorted; with filters, only those containing one of them. */
export function portableTestFiles(root, filters = []) {
  return readdirSync(path.join(root, 'test'), { recursive: true })
    .map((f) => `test/${String(f).split(path.sep).join('/')}`)
    .filter((f) => f.endsWith('.test.ts') && !f.endsWith('.node.test.ts'))
    .filter((f) => !filters.length || filters.some((s) => f.includes(s)))
    .sort();
}
