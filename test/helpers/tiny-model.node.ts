// A tiny random Screener written to a file, at a coarse voxel size so that a small scan is a handful of
// 16^3 windows and a command runs in seconds on a software adapter. Its own runtime is disposed before
// the commands under test open theirs, as separate `screener` runs would.
import { writeFileSync } from 'node:fs';
import { nodeRuntime } from '../../src/gpu/node';
import { presetConfig } from '../../src/model/config';
import { Screener } from '../../src/model/screener';

export async function writeTinyModel(path: string, spacingMm: number, seed = 3): Promise<void> {
  const runtime = await nodeRuntime();
  const model = Screener.create(runtime, { ...presetConfig('tiny'), targetSpacing: [spacingMm, spacingMm, spacingMm] }, seed);
  try {
    writeFileSync(path, await model.toSafetensors());
  } finally {
    model.dispose();
    runtime.dispose();
  }
}
