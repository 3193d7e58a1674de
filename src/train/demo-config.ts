// The configuration of a short training run, shared by `screener demo --train` and the page's
// "train a tiny model" panel: the `tiny` networks at 6 mm voxels, so that a phantom (about 33 cm
// across) is a few hundred 16^3 windows and training plus prediction fit in minutes on a software
// adapter. It finds bright and dark blobs, not subtle lesions.
import { presetConfig, withTargetSpacing, type ScreenerConfig } from '../model/config';

/** Voxel size of the short training runs. */
export const DEMO_TRAIN_SPACING_MM = 6;

export function demoTrainingConfig(steps: number): ScreenerConfig {
  // withTargetSpacing also scales the self-supervised crops' spacing range to bracket 6 mm.
  const config = withTargetSpacing(presetConfig('tiny'), DEMO_TRAIN_SPACING_MM);
  return { ...config, preset: 'custom', train: { ...config.train, steps: { descriptor: steps, condition: steps, density: steps } } };
}
