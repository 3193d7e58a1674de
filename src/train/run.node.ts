// A whole `screener train` run in Node, on the local disk: the run itself is run.ts; here its files
// are read with readFileBytes and written with writeFileAtomic (a temporary name renamed into place),
// so an interrupted or failed run never leaves a half-written file.
import { existsSync } from 'node:fs';
import { readFileBytes, writeFileAtomic } from '../data/io/files.node';
import { driveTraining, type RunFiles, type TrainRunOptions, type TrainRunResult } from './run';
import { summaryLine } from './progress';

export { CHECKPOINT_SUFFIX, trainPaths, type RunFiles, type TrainPaths, type TrainRunOptions, type TrainRunResult } from './run';

/** The local disk as a run's files. */
export const diskRunFiles: RunFiles = {
  read: async (path) => (existsSync(path) ? readFileBytes(path) : null),
  write: async (path, bytes) => writeFileAtomic(path, bytes),
};

/** A training run on this process's GPU, its files on the local disk. */
export function runTraining(o: Omit<TrainRunOptions, 'files'>): Promise<TrainRunResult> {
  return driveTraining({ ...o, files: diskRunFiles });
}

export { summaryLine };
