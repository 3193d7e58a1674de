// Types of sequencer.mjs, which vitest.config.ts imports.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Vitest's order, with the command tests (*.node.test.ts) first. */
export declare class CommandTestsFirst extends BaseSequencer {
  sort(files: TestSpecification[]): Promise<TestSpecification[]>;
}
