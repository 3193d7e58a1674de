// dist/screener.js is what a page loads to run Screener: one ES module with no imports (so no Node
// built-in can hide in it), exporting the model side a page needs, and working as it is wherever it
// is loaded (Dawn in Node here, navigator.gpu when the Chromium runner runs this file).
import { describe, expect, it } from 'vitest';
import { distText, hostGPU, screenerBundle } from '../helpers/host';

/** What a page needs to run Screener, by job (README: "In the browser"). */
const PAGE_NEEDS = [
  // a device
  'browserRuntime', 'runtimeFromGPU',
  // scans in and maps out, as bytes
  'decodeNifti', 'encodeNifti', 'encodeAnomalyMap', 'DataError', 'plausibleCtProblem',
  // the preprocessing and the predictor
  'preprocessCt', 'toOriginalGrid', 'predictScan', 'predictPreprocessed', 'configPreprocessing',
  // models: weights in and out
  'Screener', 'screenerConfigOf', 'decodeSafetensors', 'encodeSafetensors', 'describeScreener', 'presetConfig',
  // training on scans in memory
  'ScreenerTrainer', 'trainingScanFromCt', 'demoTrainingConfig', 'TrainingInterrupted',
  // phantoms
  'generatePhantom', 'generatePhantomCase', 'TRAINING_LESION_KINDS',
] as const;

describe('the screener bundle', () => {
  it('has no import or require left, so no Node built-in (node:fs, node:path, ...) can be reached', async () => {
    const text = await distText('screener.js');
    expect(text.match(/^\s*import\s.*from\s|^\s*import\s*\(|\brequire\s*\(/m)?.[0]).toBeUndefined();
    expect(text.match(/["']node:[\w/]+["']/)?.[0]).toBeUndefined();
  });

  it('exports what a page needs', async () => {
    const bundle = (await screenerBundle()) as unknown as Record<string, unknown>;
    const missing = PAGE_NEEDS.filter((name) => bundle[name] === undefined);
    expect(missing).toEqual([]);
  });

  it('round-trips a phantom through NIfTI bytes and a model through .safetensors on the host GPU', async () => {
    const s = await screenerBundle();
    const { ct } = s.generatePhantom({ seed: 3, size: 32 });
    const back = s.decodeNifti(s.encodeNifti(ct, { gzip: true }), 'phantom.nii.gz');
    expect(back.shape).toEqual(ct.shape);
    expect(Array.from(back.data.slice(0, 64))).toEqual(Array.from(ct.data.slice(0, 64)));

    const runtime = await s.runtimeFromGPU(await hostGPU());
    try {
      const model = s.Screener.create(runtime, s.demoTrainingConfig(1), 7);
      const bytes = await model.toSafetensors();
      model.dispose();
      const loaded = s.Screener.fromSafetensors(runtime, bytes, 'model.safetensors');
      expect(loaded.config.targetSpacing).toEqual([6, 6, 6]);
      loaded.dispose();
      expect(() => s.Screener.fromSafetensors(runtime, s.encodeSafetensors([['x', { shape: [1], data: new Float32Array(1) }]]), 'other.safetensors')).toThrow(
        /other\.safetensors: not a Screener model/,
      );
    } finally {
      runtime.dispose();
    }
  });
});
