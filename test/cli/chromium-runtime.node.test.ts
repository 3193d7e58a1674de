// `screener train --runtime chromium` and `screener predict --runtime chromium` against the Node
// runtime on the same data and seed: the same crops go through the same training code in headless
// Chromium, so the loss curves agree step by step (up to the order of float sums), the chromium run
// writes the same set of files, its checkpoint resumes, and its maps equal the Node runtime's.
// Tiny networks at 12 mm voxels on two 32-voxel phantoms: each run is seconds on a software adapter.
// Needs the built bundles (npm run build) and the system Chromium.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/run-command';
import { chromiumPath } from '../../src/cli/chromium/browser.node';
import { predict } from '../../src/cli/commands/predict';
import { train } from '../../src/cli/commands/train';
import { readNifti } from '../../src/data/io/files.node';
import { phantomCaseSeed } from '../../src/data/phantom/cases';
import { generatePhantom } from '../../src/data/phantom/phantom';
import { writePhantomCase } from '../../src/data/phantom/write.node';
import { Screener } from '../../src/model/screener';
import { trainPaths } from '../../src/train/run';
import { nodeRuntime } from '../../src/gpu/node';

const root = mkdtempSync(join(tmpdir(), 'screener-chromium-runtime-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'phantoms');

// Three steps per stage: step 1 runs at learning rate 0 (warm-up), so step 3 is the first loss that
// depends on an update made in the page.
const common = ['--data', data, '--preset', 'tiny', '--spacing', '12', '--steps', '3', '--seed', '1', '--cache', join(root, 'cache')];

beforeAll(() => {
  if (!existsSync('dist/web/remote.js') || !existsSync('dist/screener.js')) throw new Error('the bundles are not built: run npm run build first');
  for (let i = 0; i < 2; i++) {
    writePhantomCase(join(data, `case_${i}`), generatePhantom({ seed: phantomCaseSeed(5, i), lesions: ['liver_hyperdense'], size: 32 }));
  }
});

const run = runCommand;

interface Row {
  key: string;
  loss: number;
  lr: number;
}

const rows = (csvPath: string): Row[] =>
  readFileSync(csvPath, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [stage, step, loss, lr] = line.split(',');
      return { key: `${stage} ${step}`, loss: Number(loss), lr: Number(lr) };
    });

/**
 * The largest relative difference of the losses, after checking both runs took the same steps at the
 * same rates (to the last bit but one: the schedule's Math.cos may round differently in Chromium's V8).
 */
function lossAgreement(a: Row[], b: Row[]): number {
  expect(b.map((r) => r.key)).toEqual(a.map((r) => r.key));
  for (const [i, r] of a.entries()) expect(Math.abs(b[i]!.lr - r.lr), r.key).toBeLessThanOrEqual(1e-12 * r.lr);
  return Math.max(...a.map((r, i) => Math.abs(r.loss - b[i]!.loss) / Math.max(Math.abs(r.loss), 1e-6)));
}

const nodeOut = join(root, 'node', 'model.safetensors');
const chromiumOut = join(root, 'chromium', 'model.safetensors');

describe('--runtime chromium', () => {
  it('trains the same steps to the same losses as the Node runtime, and writes the model, checkpoint, CSV and plot', async () => {
    const node = await run(train, [...common, '--out', nodeOut]);
    expect(node.code).toBe(0);
    const chromium = await run(train, [...common, '--out', chromiumOut, '--runtime', 'chromium']);
    expect(chromium.code).toBe(0);
    expect(chromium.err).toMatch(/adapter: .*in headless Chromium/);
    expect(chromium.out).toMatch(/trained: descriptor 3 \+ condition 3 \+ density 3 steps/);

    const paths = trainPaths(chromiumOut);
    const a = rows(trainPaths(nodeOut).csv);
    const b = rows(paths.csv);
    expect(a).toHaveLength(9);
    const worst = lossAgreement(a, b);
    console.log(`train: largest relative loss difference between the runtimes over ${a.length} steps: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    expect(readFileSync(paths.png).subarray(1, 4).toString()).toBe('PNG');

    // The model and checkpoint are Screener files with every stage trained, and the weights agree.
    // Its own runtime, disposed before the next command opens one (as separate `screener` runs would).
    const runtime = await nodeRuntime();
    const mine = Screener.fromSafetensors(runtime, readFileSync(chromiumOut), chromiumOut);
    const theirs = Screener.fromSafetensors(runtime, readFileSync(nodeOut), nodeOut);
    try {
      expect([...mine.trainedStages]).toEqual(['descriptor', 'condition', 'density']);
      let worstWeight = 0;
      for (const [name, t] of theirs.namedTensors()) {
        const x = await t.read();
        const y = await mine.namedTensors().get(name)!.read();
        const scale = Math.max(1e-3, ...Array.from(x, Math.abs));
        for (let i = 0; i < x.length; i++) worstWeight = Math.max(worstWeight, Math.abs(x[i]! - y[i]!) / scale);
      }
      console.log(`train: largest weight difference (relative to each tensor's largest value): ${worstWeight.toExponential(2)}`);
      expect(worstWeight).toBeLessThan(1e-4);
    } finally {
      mine.dispose();
      theirs.dispose();
      runtime.dispose();
    }
    expect(readFileSync(paths.checkpoint).length).toBeGreaterThan(readFileSync(chromiumOut).length); // projectors too
  });

  it('continues from a checkpoint it wrote (--resume) to the losses of the uninterrupted run', async () => {
    const out = join(root, 'resumed', 'model.safetensors');
    // The descriptor stage alone, then the rest from its checkpoint.
    const descriptorOnly = await run(train, [...common, '--out', out, '--runtime', 'chromium', '--stage', 'descriptor']);
    expect(descriptorOnly.code).toBe(0);
    expect(descriptorOnly.err).not.toMatch(/untrained/); // the descriptor stage needs no other network
    expect(rows(trainPaths(out).csv).map((r) => r.key)).toEqual(['descriptor 1', 'descriptor 2', 'descriptor 3']);
    const resumed = await run(train, [...common, '--out', out, '--runtime', 'chromium', '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.err).toMatch(/resuming from .*model\.checkpoint\.safetensors at descriptor step 3\/3/);
    expect(resumed.out).toMatch(/trained: condition 3 \+ density 3 steps/);
    const worst = lossAgreement(rows(trainPaths(chromiumOut).csv), rows(trainPaths(out).csv));
    console.log(`resume: largest relative loss difference from the uninterrupted run: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });

  it('writes the map the Node runtime writes (predict), on the input grid, with either score and with smoothing', async () => {
    const input = join(data, 'case_0', 'ct.nii.gz');
    const ct = readNifti(input);
    // The latent energy's map smoothed too: the smoothing happens after the page's windows, on either runtime.
    for (const [score, extra] of [['nll', []], ['latent', ['--smooth', '20']]] as const) {
      const nodeMap = join(root, 'maps', `node-${score}.nii.gz`);
      const chromiumMap = join(root, 'maps', `chromium-${score}.nii.gz`);
      expect((await run(predict, ['--model', chromiumOut, '--in', input, '--out', nodeMap, '--score', score, ...extra])).code).toBe(0);
      const chromium = await run(predict, ['--model', chromiumOut, '--in', input, '--out', chromiumMap, '--score', score, ...extra, '--runtime', 'chromium']);
      expect(chromium.code).toBe(0);
      expect(chromium.out).toMatch(/chromium-\w+\.nii\.gz: \d+x\d+x\d+ map, scores .* \d+ windows/);
      const a = readNifti(nodeMap);
      const b = readNifti(chromiumMap);
      expect(b.shape).toEqual(ct.shape);
      expect(Array.from(b.affine)).toEqual(Array.from(ct.affine));
      expect(b.description).toBe(a.description);
      expect(b.description).toBe(score === 'nll' ? 'screener anomaly (NLL)' : 'screener anomaly (latent energy, smoothed 20 mm)');
      let worst = 0;
      for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!) / Math.max(Math.abs(a.data[i]!), 1e-6));
      console.log(`predict (${score}): largest relative difference of the maps over ${a.data.length} voxels: ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      expect(new Set(b.data).size).toBeGreaterThan(10);
    }
    // The two scores are different maps: the page did not ignore the score it was asked for.
    const [nll, latent] = ['nll', 'latent'].map((score) => readNifti(join(root, 'maps', `chromium-${score}.nii.gz`)).data);
    expect(latent!.some((v, i) => Math.abs(v - nll![i]!) > 1e-3)).toBe(true);
  });

  it('says how to install Chromium when there is none, and names the runtimes on a typo', async () => {
    const saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = join(root, 'no-chromium');
    try {
      const out = join(root, 'missing', 'map.nii.gz');
      const attempt = run(predict, ['--model', chromiumOut, '--in', join(data, 'case_0', 'ct.nii.gz'), '--out', out, '--runtime', 'chromium']);
      await expect(attempt).rejects.toThrow(/no Chromium at .*no-chromium: install it \(apt-get install -y chromium/);
      expect(existsSync(out)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
    await expect(run(train, [...common, '--out', join(root, 'typo.safetensors'), '--runtime', 'firefox'])).rejects.toThrow(/--runtime must be node or chromium, got "firefox"/);
  });

  it('stops before any work when the browser has no WebGPU', async () => {
    // The system Chromium with WebGPU switched off and the flag that turns it on dropped.
    const wrapper = join(root, 'chromium-without-webgpu.sh');
    writeFileSync(
      wrapper,
      '#!/bin/sh\nfor a in "$@"; do shift; [ "$a" = "--enable-unsafe-webgpu" ] || set -- "$@" "$a"; done\n' +
        `exec ${chromiumPath()} --disable-features=WebGPU,Vulkan "$@"\n`,
      { mode: 0o755 },
    );
    const saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = wrapper;
    try {
      const out = join(root, 'no-webgpu', 'model.safetensors');
      await expect(run(train, [...common, '--out', out, '--runtime', 'chromium'])).rejects.toThrow(/--runtime chromium: .*chromium-without-webgpu\.sh has no WebGPU here/);
      expect(existsSync(trainPaths(out).checkpoint)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
  });
});
