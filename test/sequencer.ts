// The order vitest starts the test files in. Two workers share the suite; the longest files must start
// first, or one of them ends the run alone. Vitest orders by the durations of earlier runs, and without
// them (a fresh clone, as in CI) by file size, which says little here: the command tests
// (*.node.test.ts: whole train, predict and eval runs, Chromium launches) are the longest files, up to
// 2 minutes each, while the largest files are fast unit tests. So command tests go first, each group in
// vitest's own order. Measured on the 2-core machine with no results of earlier runs: the Node suite
// took 416 s in vitest's order, 380 s with the command tests first.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const isCommandTest = (file: TestSpecification) => file.moduleId.endsWith('.node.test.ts');

export class CommandTestsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return [...sorted.filter(isCommandTest), ...sorted.filter((file) => !isCommandTest(file))];
  }
}
