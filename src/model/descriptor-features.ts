// A descriptor network's map of a whole preprocessed scan in one forward pass: the image is padded with
// zeros (air after the HU window) up to the network's size multiple, and the map cropped back. GroupNorm
// then normalises over the whole body rather than over a training crop, as a whole-scan analysis wants.
// GPU memory grows with the scan (about 15 activations of its voxel count times the widest level's
// channels): meant for scans at the model's voxel size of 3-5 mm, not for full-resolution CTs.
import type { Runtime } from '../gpu/runtime';
import type { Shape3 } from '../data/geometry/volume';
import { fromArray, noGrad, tidy } from '../graph/index';
import type { DenseUNet } from './unet';

/** The zero-padded copy of a row-major [D, H, W] image with every extent rounded up to a multiple of m. */
export function padToMultiple(data: Float32Array, shape: Shape3, m: number): { data: Float32Array; shape: Shape3 } {
  const padded = shape.map((s) => Math.ceil(s / m) * m) as Shape3;
  const out = new Float32Array(padded[0] * padded[1] * padded[2]);
  for (let z = 0; z < shape[0]; z++) {
    for (let y = 0; y < shape[1]; y++) {
      const from = (z * shape[1] + y) * shape[2];
      out.set(data.subarray(from, from + shape[2]), (z * padded[1] + y) * padded[2]);
    }
  }
  return { data: out, shape: padded };
}

/** Descriptors of a row-major [D, H, W] image: row-major [D * H * W, d] (channels last). */
export async function descriptorFeatures(runtime: Runtime, net: DenseUNet, image: { data: Float32Array; shape: Shape3 }): Promise<Float32Array> {
  const { shape } = image;
  const padded = padToMultiple(image.data, shape, net.sizeMultiple);
  const map = tidy(() => noGrad(() => net.forward(fromArray(runtime, padded.data, [1, ...padded.shape, 1]))));
  let values: Float32Array;
  try {
    values = await map.read();
  } finally {
    map.dispose();
  }
  const d = net.config.embedding;
  const out = new Float32Array(shape[0] * shape[1] * shape[2] * d);
  for (let z = 0; z < shape[0]; z++) {
    for (let y = 0; y < shape[1]; y++) {
      const from = ((z * padded.shape[1] + y) * padded.shape[2]) * d;
      out.set(values.subarray(from, from + shape[2] * d), ((z * shape[1] + y) * shape[2]) * d);
    }
  }
  return out;
}
