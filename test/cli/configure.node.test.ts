// `screener configure`: a model file with other prediction options, the weights and other metadata unchanged.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure } from '../../src/cli/commands/configure';
import { decodeSafetensors } from '../../src/model/safetensors';
import { readScreenerWeights } from '../../src/model/weights';
import { runCommand } from '../helpers/run-command';
import { writeTinyModel } from '../helpers/tiny-model.node';

const root = mkdtempSync(join(tmpdir(), 'screener-configure-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'tiny.safetensors');
beforeAll(() => writeTinyModel(model, 20));

describe('screener configure', () => {
  it('writes the model with the options given, the same tensors and metadata otherwise, and says what it is', async () => {
    const out = join(root, 'smoothed.safetensors');
    const { code, out: printed } = await runCommand(configure, ['--model', model, '--out', out, '--smooth', '6', '--score', 'latent']);
    expect(code).toBe(0);
    expect(printed).toMatch(/smoothed\.safetensors: tiny preset, .*, latent-energy score, map smoothed 6 mm$/);
    const [before, after] = [model, out].map((p) => readScreenerWeights(readFileSync(p), p));
    expect(after!.config).toEqual({ ...before!.config, density: { ...before!.config.density, score: 'latent', smoothMm: 6 } });
    expect([...after!.state.keys()]).toEqual([...before!.state.keys()]);
    for (const [name, values] of before!.state) expect(after!.state.get(name), name).toEqual(values);
    expect(after!.trainedStages).toEqual(before!.trainedStages);
    const metadata = (p: string) => decodeSafetensors(readFileSync(p), p).metadata;
    const { config: _c1, ...restBefore } = metadata(model);
    const { config: _c2, ...restAfter } = metadata(out);
    expect(restAfter).toEqual(restBefore);
    // Options not given keep the model's own.
    const again = join(root, 'again.safetensors');
    expect((await runCommand(configure, ['--model', out, '--out', again, '--smooth', '0'])).code).toBe(0);
    expect(readScreenerWeights(readFileSync(again), again).config.density).toMatchObject({ score: 'latent', smoothMm: 0 });
  });

  it('refuses to change nothing, to replace its input or an existing file, and a file that is not a model', async () => {
    await expect(runCommand(configure, ['--model', model, '--out', join(root, 'x.safetensors')])).rejects.toThrow(/nothing to change/);
    await expect(runCommand(configure, ['--model', model, '--out', model, '--smooth', '2'])).rejects.toThrow(/same file as --model/);
    const existing = join(root, 'existing.safetensors');
    writeFileSync(existing, 'x');
    await expect(runCommand(configure, ['--model', model, '--out', existing, '--smooth', '2'])).rejects.toThrow(/already exists; pass --force/);
    await expect(runCommand(configure, ['--model', model, '--out', join(root, 'x.safetensors'), '--smooth', '500'])).rejects.toThrow(/--smooth must be/);
    await expect(runCommand(configure, ['--model', model, '--out', join(root, 'x.safetensors'), '--reference', 'scan'])).rejects.toThrow(/only a knn density compares descriptors with a reference/);
    await expect(runCommand(configure, ['--model', model, '--out', join(root, 'x.safetensors'), '--reference-rows', '100'])).rejects.toThrow(/only a knn density compares descriptors with its scan/);
    await expect(runCommand(configure, ['--model', model, '--out', join(root, 'x.safetensors'), '--reference-rows', '1.5'])).rejects.toThrow(/--reference-rows must be a decimal integer, got "1\.5"/);
    expect(existsSync(join(root, 'x.safetensors'))).toBe(false);
    await expect(runCommand(configure, ['--model', existing, '--out', join(root, 'y.safetensors'), '--smooth', '2', '--force'])).rejects.toThrow(/existing\.safetensors/);
    expect(existsSync(join(root, 'y.safetensors'))).toBe(false);
    expect(readFileSync(existing, 'utf8')).toBe('x');
  });
});
