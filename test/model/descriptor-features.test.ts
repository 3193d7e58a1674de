// A descriptor's whole-scan map: zero padding up to the network's size multiple, the forward pass, and
// the crop back to the scan, channels last.
import { describe, expect, it } from 'vitest';
import { fromArray } from '../../src/graph/index';
import { presetConfig } from '../../src/model/config';
import { descriptorFeatures, padToMultiple } from '../../src/model/descriptor-features';
import { DenseUNet } from '../../src/model/unet';
import { testRuntime } from '../helpers/runtime';

describe('padToMultiple', () => {
  it('keeps every voxel where it was and zeros the rest', () => {
    const data = Float32Array.from({ length: 3 * 2 * 5 }, (_, i) => i + 1);
    const { data: out, shape } = padToMultiple(data, [3, 2, 5], 4);
    expect(shape).toEqual([4, 4, 8]);
    let kept = 0;
    for (let z = 0; z < 4; z++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 8; x++) {
          const v = out[(z * 4 + y) * 8 + x]!;
          if (z < 3 && y < 2 && x < 5) {
            expect(v).toBe(data[(z * 2 + y) * 5 + x]);
            kept++;
          } else expect(v).toBe(0);
        }
      }
    }
    expect(kept).toBe(30);
  });
});

describe('descriptorFeatures', () => {
  it('is the forward pass of the zero-padded scan, cropped back, channels last', async () => {
    const rt = await testRuntime();
    const config = presetConfig('tiny').descriptor;
    const net = new DenseUNet(rt, config, 7);
    expect(net.sizeMultiple).toBe(2);
    const shape: [number, number, number] = [5, 6, 3];
    const image = Float32Array.from({ length: 90 }, (_, i) => ((i * 37) % 11) / 10);
    const got = await descriptorFeatures(rt, net, { data: image, shape });
    const d = config.embedding;
    expect(got.length).toBe(90 * d);
    // The reference: the padded input written out by hand, one forward pass, the crop read by index.
    const padded = new Float32Array(6 * 6 * 4);
    for (let z = 0; z < 5; z++) for (let y = 0; y < 6; y++) for (let x = 0; x < 3; x++) padded[(z * 6 + y) * 4 + x] = image[(z * 6 + y) * 3 + x]!;
    const input = fromArray(rt, padded, [1, 6, 6, 4, 1]);
    const full = net.forward(input);
    const all = await full.read();
    for (let z = 0; z < 5; z++) {
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 3; x++) {
          for (let c = 0; c < d; c++) expect(got[((z * 6 + y) * 3 + x) * d + c]).toBe(all[((z * 6 + y) * 4 + x) * d + c]);
        }
      }
    }
    expect(got.every(Number.isFinite)).toBe(true);
    input.dispose();
    full.dispose();
    net.dispose();
  });
});
