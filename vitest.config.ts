import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { NODE_TEST_REPORT } from './test/node-test-report.mjs';
import { CommandTestsFirst } from './test/sequencer.mjs';

// Shaders are plain text modules, exactly as esbuild's "text" loader bundles them.
const wgslAsText = {
  name: 'wgsl-as-text',
  enforce: 'pre' as const,
  load(id: string) {
    if (!id.endsWith('.wgsl')) return null;
    return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
  },
};

export default defineConfig({
  plugins: [wgslAsText],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: CommandTestsFirst },
    // Each file's duration, kept for the Chromium runner (test/browser/run.mjs), which starts the files
    // that took longest here first.
    reporters: ['default', 'json'],
    outputFile: { json: NODE_TEST_REPORT },
  },
});
