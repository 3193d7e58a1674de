// The density stage of a 'knn' density: no gradient, a bank of descriptors drawn from the training
// scans. Each step takes the pooled descriptors of a density batch (the windows the flow would train
// on) and writes `perStep` of them, drawn by the step's Rng, into the bank slots that step owns:
// slots (step * perStep + j) mod bankSize. So a step's effect depends on (seed, step) alone and a
// resumed run fills the bank exactly as an uninterrupted one, with nothing to save beside the bank.
// The "loss" a step reports is the mean distance of its new descriptors to the nearest of those
// already in the bank (to the origin while it is empty): it falls as the bank covers the scans.
import type { Runtime } from '../gpu/runtime';
import { fromArray, noGrad, tidy } from '../graph/index';
import type { Rng } from '../data/rng';
import type { KnnDensity } from '../model/density';
import type { Screener } from '../model/screener';
import type { DensityBatch } from './batches';

export class BankFiller {
  private constructor(
    private readonly runtime: Runtime,
    private readonly density: KnnDensity,
    /** The bank's values on the CPU, [bankSize * d]; each step writes the rows it changes to the GPU. */
    private readonly values: Float32Array,
    /** Descriptors each step adds: enough that `steps` steps fill the bank. */
    readonly perStep: number,
  ) {}

  /** Starts (or, after a restore, continues) filling the model's bank over `steps` steps. */
  static async start(runtime: Runtime, density: KnnDensity, steps: number): Promise<BankFiller> {
    return new BankFiller(runtime, density, await density.bank.read(), Math.ceil(density.bankSize / steps));
  }

  /** Step `step` (0-based): adds its descriptors and returns their mean distance to the earlier ones. */
  async step(model: Screener, batch: DensityBatch, step: number, rng: Rng): Promise<number> {
    const d = this.density.channels;
    const pooled = noGrad(() => tidy(() => model.pooledMaps(fromArray(this.runtime, batch.images, batch.shape)).descriptor));
    const descriptors = await pooled.read();
    pooled.dispose();
    const voxels = descriptors.length / d;
    const filled = Math.min(step * this.perStep, this.density.bankSize);
    const drawn = Array.from({ length: this.perStep }, () => rng.int(0, voxels - 1) * d);
    // Every distance before any write: in a step that wraps around the bank, a descriptor is measured
    // against the earlier steps' bank, not against one this step just wrote.
    let distances = 0;
    for (const from of drawn) distances += Math.sqrt(this.nearestSquared(descriptors.subarray(from, from + d), filled));
    drawn.forEach((from, j) => {
      const slot = (step * this.perStep + j) % this.density.bankSize;
      this.values.set(descriptors.subarray(from, from + d), slot * d);
      // Only the changed rows go to the GPU, not the whole bank.
      this.runtime.write(this.density.bank.buffer, this.values.subarray(slot * d, (slot + 1) * d), slot * d * 4);
    });
    return distances / this.perStep;
  }

  /** Squared distance to the nearest of the first `filled` bank rows (to the origin when none are). */
  private nearestSquared(vector: Float32Array, filled: number): number {
    const d = this.density.channels;
    let best = filled === 0 ? vector.reduce((s, v) => s + v * v, 0) : Infinity;
    for (let row = 0; row < filled; row++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = vector[k]! - this.values[row * d + k]!;
        s += diff * diff;
      }
      if (s < best) best = s;
    }
    return best;
  }
}
