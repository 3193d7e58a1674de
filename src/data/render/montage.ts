// A three-view montage of a volume (axial, coronal, sagittal slices through one point) with mask
// outlines, shown at true proportions. Views follow radiological habit for scanner-ordered data:
// axial with anterior at the top, coronal and sagittal with the head at the top.
import { RgbImage, type Rgb, type Slice } from './png';
import type { Shape3, Volume, VoxelArray } from '../geometry/volume';

export interface MontageOptions {
  /** Voxel (d, h, w) the three slices pass through; default the centre of the mask, else of the volume. */
  centre?: [number, number, number];
  mask?: Volume<Uint8Array>;
  window?: [number, number];
  outline?: Rgb;
  /** Screen pixels per finest voxel; default 2. */
  zoom?: number;
}

type View = 'axial' | 'coronal' | 'sagittal';

/** Extracts one slice as rows x cols, flipping D so that the head is at the top. */
export function extractSlice(data: ArrayLike<number>, shape: Shape3, view: View, index: number): { values: Float32Array; rows: number; cols: number } {
  const [D, H, W] = shape;
  if (view === 'axial') {
    const values = new Float32Array(H * W);
    for (let i = 0; i < H * W; i++) values[i] = data[index * H * W + i]!;
    return { values, rows: H, cols: W };
  }
  if (view === 'coronal') {
    const values = new Float32Array(D * W);
    for (let r = 0; r < D; r++) for (let c = 0; c < W; c++) values[r * W + c] = data[((D - 1 - r) * H + index) * W + c]!;
    return { values, rows: D, cols: W };
  }
  const values = new Float32Array(D * H);
  for (let r = 0; r < D; r++) for (let c = 0; c < H; c++) values[r * H + c] = data[((D - 1 - r) * H + c) * W + index]!;
  return { values, rows: D, cols: H };
}

function maskCentre(mask: Uint8Array, shape: Shape3): [number, number, number] | undefined {
  const [, H, W] = shape;
  let n = 0;
  const sum = [0, 0, 0];
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    n++;
    sum[2] += i % W;
    sum[1] += Math.floor(i / W) % H;
    sum[0] += Math.floor(i / (W * H));
  }
  return n ? (sum.map((s) => Math.round(s / n)) as [number, number, number]) : undefined;
}

export function renderMontage(volume: Volume<VoxelArray>, options: MontageOptions = {}): RgbImage {
  const { shape, spacing } = volume;
  const centre =
    options.centre ?? (options.mask && maskCentre(options.mask.data, shape)) ?? (shape.map((s) => Math.floor(s / 2)) as [number, number, number]);
  const pixelMm = Math.min(...spacing) / (options.zoom ?? 2);
  return drawThreeViews(volume, centre, pixelMm, options.window, (slice, out, x, y) => {
    if (options.mask) out.drawOutline(slice(options.mask.data), x, y, options.outline ?? [255, 64, 32]);
  });
}

/** The same slice of any array on the panel's grid, scaled to the panel's screen pixels. */
export type PanelSlice = (data: ArrayLike<number>) => Slice & { values: Float32Array };

/**
 * The one montage layout, for montages and anomaly overlays alike: axial, coronal and sagittal slices
 * of `volume` through voxel `centre`, side by side with 4-pixel gaps on a dark background, each drawn
 * grey through `window` and then handed to `drawOver` for what goes on top. Screen pixels are
 * `pixelMm` millimetres square, so every view keeps its proportions.
 */
export function drawThreeViews(
  volume: Volume<VoxelArray>,
  centre: readonly [number, number, number],
  pixelMm: number,
  window: [number, number] = [-700, 400],
  drawOver?: (slice: PanelSlice, out: RgbImage, x: number, y: number) => void,
): RgbImage {
  const { shape, spacing } = volume;
  const views: { view: View; index: number; rowMm: number; colMm: number }[] = [
    { view: 'axial', index: centre[0], rowMm: spacing[1], colMm: spacing[2] },
    { view: 'coronal', index: centre[1], rowMm: spacing[0], colMm: spacing[2] },
    { view: 'sagittal', index: centre[2], rowMm: spacing[0], colMm: spacing[1] },
  ];
  const panels = views.map(({ view, index, rowMm, colMm }) => {
    const slice: PanelSlice = (data) => ({ ...extractSlice(data, shape, view, index), rowScale: rowMm / pixelMm, colScale: colMm / pixelMm });
    const image = slice(volume.data);
    return { image, slice, size: RgbImage.sliceSize(image) };
  });
  const gap = 4;
  const width = panels.reduce((w, p) => w + p.size.width, 0) + gap * (panels.length + 1);
  const height = Math.max(...panels.map((p) => p.size.height)) + 2 * gap;
  const out = new RgbImage(width, height, [16, 16, 16]);
  let x = gap;
  for (const p of panels) {
    out.drawGraySlice(p.image, x, gap, window);
    drawOver?.(p.slice, out, x, gap);
    x += p.size.width + gap;
  }
  return out;
}
