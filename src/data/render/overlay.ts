// A three-view picture of an anomaly map over its CT: grey CT, the highest scores in the body as a
// red-to-yellow overlay, the lesion mask (when known) outlined in green, in the montage's layout:
// axial, coronal and sagittal slices through the centre of the largest lesion, else through the
// highest score.
import { labelComponents } from '../preprocess/components';
import { drawThreeViews } from './montage';
import { RgbImage, type Slice } from './png';
import type { Shape3, Volume, VoxelArray } from '../geometry/volume';

export interface OverlayOptions {
  lesion?: Uint8Array;
  /** Only voxels in the body set the colour scale. */
  body?: Uint8Array;
  /** Score quantiles (inside the body) shown as transparent and as full yellow; default [0.9, 0.999]. */
  quantiles?: [number, number];
  window?: [number, number];
  /** Screen pixels across the longest side of the scan (default 320), whatever its voxel count. */
  pixels?: number;
}

/** The value below which a fraction q of the scores (inside the body) lie. */
export function quantile(scores: ArrayLike<number>, body: ArrayLike<number> | undefined, q: number): number {
  const values: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!body || body[i]) values.push(scores[i]!);
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))]!;
}

/** The centre of the largest 26-connected lesion (the centroid of several lesions may miss them all). */
function centreOf(mask: Uint8Array, shape: Shape3): [number, number, number] | undefined {
  const { labels, sizes } = labelComponents(mask, shape, 26);
  if (sizes.length === 0) return undefined;
  const largest = sizes.indexOf(Math.max(...sizes)) + 1;
  const [, H, W] = shape;
  const sum = [0, 0, 0];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== largest) continue;
    sum[2] += i % W;
    sum[1] += Math.floor(i / W) % H;
    sum[0] += Math.floor(i / (W * H));
  }
  return sum.map((s) => Math.round(s / sizes[largest - 1]!)) as [number, number, number];
}

function argmax(scores: ArrayLike<number>, body: ArrayLike<number> | undefined, shape: Shape3): [number, number, number] {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if ((!body || body[i]) && scores[i]! > scores[best]!) best = i;
  const [, H, W] = shape;
  return [Math.floor(best / (H * W)), Math.floor(best / W) % H, best % W];
}

export function renderOverlay(ct: Volume<VoxelArray>, scores: Float32Array, options: OverlayOptions = {}): RgbImage {
  const { shape, spacing } = ct;
  const [qlo, qhi] = options.quantiles ?? [0.9, 0.999];
  const lo = quantile(scores, options.body, qlo);
  const hi = Math.max(quantile(scores, options.body, qhi), lo + 1e-6);
  const centre = (options.lesion && centreOf(options.lesion, shape)) ?? argmax(scores, options.body, shape);
  const pixelMm = Math.max(...shape.map((n, a) => n * spacing[a]!)) / (options.pixels ?? 320);
  return drawThreeViews(ct, centre, pixelMm, options.window, (slice, out, x, y) => {
    const raw = slice(scores);
    const inBody = options.body ? slice(options.body).values : undefined;
    const level = raw.values.map((v, i) => (inBody && !inBody[i] ? 0 : Math.min(1, Math.max(0, (v - lo) / (hi - lo)))));
    const red: Slice = { ...raw, values: level };
    const yellow: Slice = { ...red, values: level.map((v) => Math.max(0, 2 * v - 1)) };
    out.drawOverlay(red, x, y, [255, 40, 0], 0.75);
    out.drawOverlay(yellow, x, y, [255, 235, 0], 0.75);
    if (options.lesion) out.drawOutline(slice(options.lesion), x, y, [40, 255, 80]);
  });
}
