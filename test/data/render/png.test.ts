// The PNG writer (chunks, CRCs, pixels that decode back exactly) and the drawing the montages use.
import { unzlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../src/data/io/crc32';
import { generatePhantom } from '../../../src/data/phantom/phantom';
import { renderMontage } from '../../../src/data/render/montage';
import { encodePng, RgbImage } from '../../../src/data/render/png';

describe('PNG', () => {
  function chunks(png: Uint8Array) {
    const view = new DataView(png.buffer, png.byteOffset);
    const out: { type: string; data: Uint8Array }[] = [];
    for (let o = 8; o < png.length; ) {
      const length = view.getUint32(o);
      const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
      expect(view.getUint32(o + 8 + length)).toBe(crc32(png.subarray(o + 4, o + 8 + length)));
      out.push({ type, data: png.subarray(o + 8, o + 8 + length) });
      o += 12 + length;
    }
    return out;
  }

  it('encodes RGB pixels that decode back exactly', () => {
    const width = 5;
    const height = 3;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng(rgb, width, height);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const parts = chunks(png);
    expect(parts.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = new DataView(parts[0]!.data.buffer, parts[0]!.data.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), parts[0]!.data[8], parts[0]!.data[9]]).toEqual([5, 3, 8, 2]);
    const raw = unzlibSync(parts[1]!.data);
    for (let y = 0; y < height; y++) {
      expect(raw[y * (width * 3 + 1)]).toBe(0);
      expect(Array.from(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)))).toEqual(Array.from(rgb.subarray(y * width * 3, (y + 1) * width * 3)));
    }
  });

  it('draws grey slices, outlines and montages', () => {
    const image = new RgbImage(4, 4);
    image.drawGraySlice({ values: [0, 50, 100, 150], rows: 2, cols: 2, rowScale: 2, colScale: 2 }, 0, 0, [0, 150]);
    expect(Array.from(image.pixels.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(image.pixels.subarray((3 * 4 + 3) * 3, (3 * 4 + 3) * 3 + 3))).toEqual([255, 255, 255]);
    const outline = new RgbImage(5, 5);
    outline.drawOutline({ values: [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0], rows: 5, cols: 5 }, 0, 0, [255, 0, 0]);
    const red = (x: number, y: number) => outline.pixels[(y * 5 + x) * 3] === 255;
    expect([red(1, 1), red(2, 1), red(2, 2), red(0, 0)]).toEqual([true, true, false, false]);
    const small = generatePhantom({ seed: 2, size: 32, lesions: ['liver_hypodense'] });
    const montage = renderMontage(small.ct, { mask: small.lesion });
    expect(montage.width).toBeGreaterThan(montage.height);
    // The lesion outline is drawn in its colour.
    let outlined = 0;
    for (let i = 0; i < montage.pixels.length; i += 3) if (montage.pixels[i] === 255 && montage.pixels[i + 1] === 64) outlined++;
    expect(outlined).toBeGreaterThan(0);
    expect(montage.toPng().length).toBeGreaterThan(100);
  });
});
