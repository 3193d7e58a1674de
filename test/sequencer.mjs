// The order vitest starts the test files in. Two workers share the suite; the longest files must start
// first, or one of them ends the run alone. Vitest orders by the durations of earlier runs, and without
// them (a fresh clone, as in CI) by file size, which says little here: the command tests
// (*.node.test.ts: whole train, predict and eval runs, Chromium launches) are the longest files, up to
// 2 minutes each, while the largest files are fast unit tests. So command tests go first, each group in
// vitest's own order. Measured on the 2-core machine with no results of earlier runs: the Node suite
// took 416 s in vitest's order, 380 s with the command tests first.
// Plain JavaScript, so that vitest.config.ts imports it with its extension (test/sequencer.d.mts types it).
import { BaseSequencer } from 'vitest/node';

/** @param {import('vitest/node').TestSpecification} file */
const isCommandTest = (file) => file.moduleId.endsWith('.node.test.ts');

export class CommandTestsFirst extends BaseSequencer {
  /** @param {import('vitest/node').TestSpecification[]} files */
  async sort(files) {
    const sorted = await super.sort(files);
    return [...sorted.filter(isCommandTest), ...sorted.filter((file) => !isCommandTest(file))];
  }
}
