// Colour (intensity) augmentations of a crop for dense self-supervised learning, each applied with
// its own probability: blur or sharpen, Gaussian noise, brightness, contrast, gamma. They change how
// tissue looks but never where it is, so positive pairs stay positive.
import { gaussianBlur3d } from '../data/preprocess/filters';
import type { Rng } from '../data/rng';
import type { Shape3 } from '../data/geometry/volume';

export interface ColourAugmentOptions {
  /** Probability of each augmentation (paper: 0.8). */
  probability: number;
  /** Gaussian sigma in voxels, for blurring and for the unsharp mask. */
  blurSigma: [number, number];
  /** Unsharp-mask strength: x + alpha (x - blur(x)). */
  sharpenAlpha: [number, number];
  noiseStd: [number, number];
  /** Added to every voxel. */
  brightness: [number, number];
  /** Factor on the deviation from the crop mean. */
  contrast: [number, number];
  gamma: [number, number];
}

export const DEFAULT_COLOUR_AUGMENT: ColourAugmentOptions = {
  probability: 0.8,
  blurSigma: [0.25, 1.0],
  sharpenAlpha: [0.2, 1.0],
  noiseStd: [0, 0.05],
  brightness: [-0.1, 0.1],
  contrast: [0.75, 1.25],
  gamma: [0.7, 1.5],
};

/**
 * The paper's colour augmentations with every range scaled by `strength` about "no change" (blur,
 * sharpening, noise and brightness times strength; contrast 1 +- 0.25 strength; gamma 0.7^strength to
 * 1.5^strength); strength 0 turns them off.
 */
export function scaledColourAugment(strength: number): ColourAugmentOptions | false {
  if (!(strength >= 0)) throw new RangeError(`colour augmentation strength must be >= 0, got ${strength}`);
  if (strength === 0) return false;
  const d = DEFAULT_COLOUR_AUGMENT;
  const times = (r: [number, number]): [number, number] => [r[0] * strength, r[1] * strength];
  return {
    probability: d.probability,
    blurSigma: times(d.blurSigma),
    sharpenAlpha: times(d.sharpenAlpha),
    noiseStd: times(d.noiseStd),
    brightness: times(d.brightness),
    contrast: [1 - (1 - d.contrast[0]) * strength, 1 + (d.contrast[1] - 1) * strength],
    gamma: [d.gamma[0] ** strength, d.gamma[1] ** strength],
  };
}

export type ColourStep = 'blur' | 'sharpen' | 'noise' | 'brightness' | 'contrast' | 'gamma';

/** Augments an image in place; returns which steps ran. */
export function augmentColour(image: Float32Array, shape: Shape3, rng: Rng, options: ColourAugmentOptions = DEFAULT_COLOUR_AUGMENT): ColourStep[] {
  const steps: ColourStep[] = [];
  const n = image.length;
  const p = options.probability;
  if (rng.bool(p)) {
    const sigma = rng.uniform(...options.blurSigma);
    const blurred = gaussianBlur3d(image, shape, sigma);
    if (rng.bool()) {
      image.set(blurred);
      steps.push('blur');
    } else {
      const alpha = rng.uniform(...options.sharpenAlpha);
      for (let i = 0; i < n; i++) image[i] = image[i]! + alpha * (image[i]! - blurred[i]!);
      steps.push('sharpen');
    }
  }
  if (rng.bool(p)) {
    const std = rng.uniform(...options.noiseStd);
    for (let i = 0; i < n; i++) image[i]! += std * rng.normal();
    steps.push('noise');
  }
  if (rng.bool(p)) {
    const shift = rng.uniform(...options.brightness);
    for (let i = 0; i < n; i++) image[i]! += shift;
    steps.push('brightness');
  }
  if (rng.bool(p)) {
    const factor = rng.uniform(...options.contrast);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += image[i]!;
    mean /= n;
    for (let i = 0; i < n; i++) image[i] = mean + factor * (image[i]! - mean);
    steps.push('contrast');
  }
  if (rng.bool(p)) {
    // Gamma on the crop's own range, so values outside [0, 1] after noise stay well defined.
    const gamma = rng.uniform(...options.gamma);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      if (image[i]! < lo) lo = image[i]!;
      if (image[i]! > hi) hi = image[i]!;
    }
    const range = hi - lo;
    if (range > 0) for (let i = 0; i < n; i++) image[i] = lo + range * Math.pow((image[i]! - lo) / range, gamma);
    steps.push('gamma');
  }
  return steps;
}
