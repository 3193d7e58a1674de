// A minimal PNG writer (8-bit RGB, no interlace; zlib via fflate) and a canvas to draw CT slices and
// mask outlines on, for montages and score overlays, in Node and in browsers alike.
import { zlibSync } from 'fflate';
import { crc32 } from '../io/crc32';

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes width x height RGB pixels (row-major, 3 bytes each) as a PNG file. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: ${rgb.length} bytes for ${width}x${height} RGB`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive filtering, no interlace
  // Every scanline starts with filter byte 0 (none): simple, and deflate still shrinks CT well.
  const raw = new Uint8Array(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlibSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) out.set(p, offset), (offset += p.length);
  return out;
}

export type Rgb = [number, number, number];

/**
 * A 2-D slice to draw: values[row * cols + col], plus how many screen pixels each row and column
 * takes (to show anisotropic voxels at their true proportions).
 */
export interface Slice {
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  rowScale?: number;
  colScale?: number;
}

export class RgbImage {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [0, 0, 0],
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 3);
  }

  setPixel(x: number, y: number, colour: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.pixels.set(colour, (y * this.width + x) * 3);
  }

  /** Screen size of a slice after scaling. */
  static sliceSize(slice: Slice): { width: number; height: number } {
    return { width: Math.round(slice.cols * (slice.colScale ?? 1)), height: Math.round(slice.rows * (slice.rowScale ?? 1)) };
  }

  /** Draws a slice in grey, mapping [lo, hi] to black..white, nearest-neighbour scaled, top-left at (x0, y0). */
  drawGraySlice(slice: Slice, x0: number, y0: number, window: [number, number]): void {
    const { width, height } = RgbImage.sliceSize(slice);
    const [lo, hi] = window;
    for (let y = 0; y < height; y++) {
      const row = Math.min(slice.rows - 1, Math.floor(y / (slice.rowScale ?? 1)));
      for (let x = 0; x < width; x++) {
        const col = Math.min(slice.cols - 1, Math.floor(x / (slice.colScale ?? 1)));
        const v = slice.values[row * slice.cols + col]!;
        const g = Math.round(255 * Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
        this.setPixel(x0 + x, y0 + y, [g, g, g]);
      }
    }
  }

  /** Outlines the set region of a same-sized mask slice: screen pixels inside whose neighbour is outside. */
  drawOutline(mask: Slice, x0: number, y0: number, colour: Rgb): void {
    const { width, height } = RgbImage.sliceSize(mask);
    const inside = (x: number, y: number) => {
      if (x < 0 || y < 0 || x >= width || y >= height) return false;
      const row = Math.min(mask.rows - 1, Math.floor(y / (mask.rowScale ?? 1)));
      const col = Math.min(mask.cols - 1, Math.floor(x / (mask.colScale ?? 1)));
      return mask.values[row * mask.cols + col]! > 0;
    };
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (inside(x, y) && !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1))) {
          this.setPixel(x0 + x, y0 + y, colour);
        }
      }
    }
  }

  /** Blends a colour over the pixels where `values` is above zero, with opacity alpha * value (values in [0, 1]). */
  drawOverlay(slice: Slice, x0: number, y0: number, colour: Rgb, alpha = 0.5): void {
    const { width, height } = RgbImage.sliceSize(slice);
    for (let y = 0; y < height; y++) {
      const row = Math.min(slice.rows - 1, Math.floor(y / (slice.rowScale ?? 1)));
      for (let x = 0; x < width; x++) {
        const col = Math.min(slice.cols - 1, Math.floor(x / (slice.colScale ?? 1)));
        const a = alpha * Math.min(1, Math.max(0, slice.values[row * slice.cols + col]!));
        const px = x0 + x;
        const py = y0 + y;
        if (a <= 0 || px < 0 || py < 0 || px >= this.width || py >= this.height) continue;
        const o = (py * this.width + px) * 3;
        for (let c = 0; c < 3; c++) this.pixels[o + c] = Math.round(this.pixels[o + c]! * (1 - a) + colour[c]! * a);
      }
    }
  }

  toPng(): Uint8Array {
    return encodePng(this.pixels, this.width, this.height);
  }
}
