// `screener rank-descriptors`: models ranked by their descriptor's healthy kNN tail on unlabelled
// phantoms, the figure the same as computing it by hand, and the bad-input errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankDescriptors } from '../../src/cli/commands/rank-descriptors';
import { readNifti } from '../../src/data/io/files.node';
import { phantomCaseSeed } from '../../src/data/phantom/cases';
import { generatePhantom } from '../../src/data/phantom/phantom';
import { writePhantomCase } from '../../src/data/phantom/write.node';
import { preprocessCt } from '../../src/data/preprocess/preprocess';
import { healthyKnnTail } from '../../src/eval/healthy-knn-tail';
import { nodeRuntime } from '../../src/gpu/node';
import { descriptorFeatures } from '../../src/model/descriptor-features';
import { loadScreener } from '../../src/model/predict-load.node';
import { runCommand } from '../helpers/run-command';
import { writeTinyModel } from '../helpers/tiny-model.node';

const root = mkdtempSync(join(tmpdir(), 'screener-rank-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'healthy');
const cache = join(root, 'cache');
const models = [3, 4, 5].map((seed) => join(root, `seed${seed}.safetensors`));

beforeAll(async () => {
  // At 12 mm a 32-voxel phantom preprocesses to about 28x25x28 voxels.
  for (const [i, path] of models.entries()) await writeTinyModel(path, 12, 3 + i);
  for (let i = 0; i < 3; i++) writePhantomCase(join(data, `case_${i}`), generatePhantom({ seed: phantomCaseSeed(21, i), healthy: true, size: 32 }));
});

/** The tail of one model on the first two cases, computed without the command. */
async function tailByHand(path: string): Promise<number> {
  const runtime = await nodeRuntime();
  const model = loadScreener(runtime, path);
  try {
    const scans = [];
    for (const id of ['case_0', 'case_1']) {
      const { image, body } = preprocessCt(readNifti(join(data, id, 'ct.nii.gz')), id, model.preprocess);
      const features = await descriptorFeatures(runtime, model.descriptor, { data: image.data, shape: image.shape });
      scans.push({ id, features, channels: model.config.descriptor.embedding, body: body.data });
    }
    return healthyKnnTail(scans, { seed: 2 }).tail;
  } finally {
    model.dispose();
    runtime.dispose();
  }
}

describe('screener rank-descriptors', () => {
  it('ranks the models by their tail, lowest first, with the figure computed by hand', async () => {
    const { code, out } = await runCommand(rankDescriptors, ['--data', data, '--scans', '2', '--seed', '2', '--cache', cache, ...models]);
    expect(code).toBe(0);
    const rows = out.split('\n').filter((l) => /^\| \d/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((r) => r[1])).toEqual(['1', '2', '3']);
    expect([...rows.map((r) => r[5])].sort()).toEqual([...models].sort());
    expect(rows.map((r) => r[4])).toEqual(['untrained', 'untrained', 'untrained']); // fresh draws: no descriptor stage yet
    const tails = rows.map((r) => Number(r[2]));
    expect(tails).toEqual([...tails].sort((a, b) => a - b));
    expect(tails.every((t) => t > 1)).toBe(true);
    expect(rows.every((r) => r[3]!.split(' ').length === 2)).toBe(true);
    const first = rows[0]!;
    expect(Number(first[2])).toBeCloseTo(await tailByHand(first[5]!), 3);
  });

  it('refuses fewer than two scans, no model, a folder without cases, an unreadable scan and a file that is not a model', async () => {
    await expect(runCommand(rankDescriptors, ['--data', data, '--scans', '1', models[0]!])).rejects.toThrow(/--scans must be at least 2/);
    await expect(runCommand(rankDescriptors, ['--data', data])).rejects.toThrow(/at least one MODEL/);
    await expect(runCommand(rankDescriptors, [models[0]!])).rejects.toThrow(/--data is required/);
    const lonely = join(root, 'one-case');
    writePhantomCase(join(lonely, 'case_0'), generatePhantom({ seed: 1, healthy: true, size: 16 }));
    await expect(runCommand(rankDescriptors, ['--data', lonely, models[0]!])).rejects.toThrow(/one-case.*at least 2 cases, found 1/);
    const broken = join(root, 'broken');
    writePhantomCase(join(broken, 'case_0'), generatePhantom({ seed: 1, healthy: true, size: 32 }));
    mkdirSync(join(broken, 'case_1'));
    writeFileSync(join(broken, 'case_1', 'ct.nii.gz'), 'junk');
    const refused = await runCommand(rankDescriptors, ['--data', broken, '--cache', cache, models[0]!]).catch((error: Error) => error);
    expect(String(refused)).toMatch(/broken\/case_1\/ct\.nii\.gz/);
    const notModel = join(root, 'not-a-model.safetensors');
    writeFileSync(notModel, 'x');
    await expect(runCommand(rankDescriptors, ['--data', data, '--cache', cache, models[0]!, notModel])).rejects.toThrow(/not-a-model\.safetensors/);
  });
});
