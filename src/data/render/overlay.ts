// A three-view picture of an anomaly map over its CT: grey CT, the highest scores in the body as a
// red-to-yellow overlay, the lesion mask (when known) outlined in green. Views as renderMontage's:
// axial, coronal and sagittal slices through the centre of the largest lesion, else through the
// highest score.
import { labelComponents } from '../preprocess/components';
import { extractSlice } from './montage';
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
  const views = [
    { view: 'axial' as const, index: centre[0], rowMm: spacing[1], colMm: spacing[2] },
    { view: 'coronal' as const, index: centre[1], rowMm: spacing[0], colMm: spacing[2] },
    { view: 'sagittal' as const, index: centre[2], rowMm: spacing[0], colMm: spacing[1] },
  ];
  const panels = views.map(({ view, index, rowMm, colMm }) => {
    const scale = { rowScale: rowMm / pixelMm, colScale: colMm / pixelMm };
    const image: Slice = { ...extractSlice(ct.data, shape, view, index), ...scale };
    const raw = extractSlice(scores, shape, view, index);
    const inBody = options.body ? extractSlice(options.body, shape, view, index).values : undefined;
    const level = raw.values.map((v, i) => (inBody && !inBody[i] ? 0 : Math.min(1, Math.max(0, (v - lo) / (hi - lo)))));
    const red: Slice = { values: level, rows: raw.rows, cols: raw.cols, ...scale };
    const yellow: Slice = { ...red, values: level.map((v) => Math.max(0, 2 * v - 1)) };
    const lesion: Slice | undefined = options.lesion && { ...extractSlice(options.lesion, shape, view, index), ...scale };
    return { image, red, yellow, lesion, size: RgbImage.sliceSize(image) };
  });
  const gap = 4;
  const width = panels.reduce((w, p) => w + p.size.width, 0) + gap * (panels.length + 1);
  const height = Math.max(...panels.map((p) => p.size.height)) + 2 * gap;
  const out = new RgbImage(width, height, [16, 16, 16]);
  let x = gap;
  for (const p of panels) {
    out.drawGraySlice(p.image, x, gap, options.window ?? [-700, 400]);
    out.drawOverlay(p.red, x, gap, [255, 40, 0], 0.75);
    out.drawOverlay(p.yellow, x, gap, [255, 235, 0], 0.75);
    if (p.lesion) out.drawOutline(p.lesion, x, gap, [40, 255, 80]);
    x += p.size.width + gap;
  }
  return out;
}
