// Whole-scan inference: seconds per scan and voxels per second for a 128^3 CT (2.5 mm voxels, the
// body filling most of it), preprocessing and mapping back included. Uses models/tiny.safetensors
// when it exists, else a randomly initialised `tiny` model (--small: `small`); --quick: a 64^3 scan.
import { existsSync, readFileSync } from 'node:fs';
import type { Benchmark, BenchCase } from '../harness';
import { identityAffine, type Shape3 } from '../../src/data/geometry/volume';
import { fromArray, tidy } from '../../src/graph/index';
import { presetConfig } from '../../src/model/config';
import { predictScan } from '../../src/model/predict';
import { Screener } from '../../src/model/screener';

const TRAINED = 'models/tiny.safetensors';

/** A CT in HU: an ellipsoidal body of soft tissue with a denser core and a little texture, in air. */
function syntheticCt(n: number) {
  const shape: Shape3 = [n, n, n];
  const data = new Int16Array(n * n * n);
  let i = 0;
  for (let d = 0; d < n; d++)
    for (let h = 0; h < n; h++)
      for (let w = 0; w < n; w++, i++) {
        const r = ((d - n / 2) / (0.48 * n)) ** 2 + ((h - n / 2) / (0.4 * n)) ** 2 + ((w - n / 2) / (0.46 * n)) ** 2;
        data[i] = r > 1 ? -1000 : r < 0.2 ? 60 + 30 * Math.sin(d / 3) : 20 + 15 * Math.cos((h + w) / 4);
      }
  const affine = identityAffine();
  for (const a of [0, 5, 10]) affine[a] = 2.5;
  return { data, shape, spacing: [2.5, 2.5, 2.5] as Shape3, affine };
}

export const predict: Benchmark = {
  name: 'predict',
  description: 'sliding-window inference of a whole 128^3 scan (seconds per scan, voxels/s)',
  options: {
    quick: { type: 'boolean', description: 'a 64^3 scan instead of 128^3' },
    small: { type: 'boolean', description: `a randomly initialised \`small\` model instead of ${TRAINED}` },
    tiny: { type: 'boolean', description: `a randomly initialised \`tiny\` model instead of ${TRAINED}` },
  },
  async run({ runtime, options }) {
    const n = options.quick ? 64 : 128;
    const trained = existsSync(TRAINED) && !options.small && !options.tiny;
    const model = trained
      ? Screener.fromSafetensors(runtime, readFileSync(TRAINED), TRAINED)
      : Screener.create(runtime, presetConfig(options.small ? 'small' : 'tiny'), 0);
    try {
      const label = trained ? `${TRAINED} (${model.config.preset})` : `random ${model.config.preset}`;
      // Warm-up: one window compiles every pipeline the model uses.
      const w = model.windowShape;
      const warm = tidy(() => model.scoreWindow(fromArray(runtime, new Float32Array(w[0] * w[1] * w[2]).fill(0.5), [1, ...w, 1]), { origin: [0, 0, 0], scanShape: w }));
      await warm.read();
      warm.dispose();

      const ct = syntheticCt(n);
      let lastReport = 0;
      const result = await predictScan(runtime, model, ct, `synthetic ${n}^3`, {
        onProgress: (done, total) => {
          if (performance.now() - lastReport > 30_000) {
            lastReport = performance.now();
            console.error(`bench: predict: ${done}/${total} windows`);
          }
        },
      });
      const voxels = n * n * n;
      const voxelsPerSecond = voxels / result.seconds;
      console.error(
        `bench: predict: ${n}^3 scan, ${label}: ${result.seconds.toFixed(1)} s per scan, ${Math.round(voxelsPerSecond).toLocaleString('en-US')} voxels/s ` +
          `(${result.windows} windows of ${w.join('x')} over ${result.scan.image.shape.join('x')} preprocessed voxels, ${((result.seconds * 1000) / result.windows).toFixed(0)} ms per window)`,
      );
      const c: BenchCase = {
        name: `scan (${label})`,
        shape: `${n}^3 CT, ${result.windows} windows`,
        medianMs: result.seconds * 1000,
        extra: {
          secondsPerScan: result.seconds,
          voxelsPerSecond,
          windows: result.windows,
          window: w,
          preprocessedShape: result.scan.image.shape,
          model: label,
          runs: 1,
        },
      };
      return [c];
    } finally {
      model.dispose();
    }
  },
};
