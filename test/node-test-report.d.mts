// Types of node-test-report.mjs, which plain-JavaScript runners and vitest.config.ts both import.
export declare const NODE_TEST_REPORT: string;
export declare function nodeTestSeconds(root: string): Map<string, number> | null;
