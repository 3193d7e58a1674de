// A small synthetic CT for the lesion-insertion tests: a block of soft tissue (about 40 HU, with noise)
// in air, holding a bone slab and an air pocket, on an anisotropic grid. `labels` says which region
// every voxel was made as, so a test can check where lesions went without trusting the code under test.
import { scaleShiftAffine, type Shape3, type Vec3, type Volume } from '../../src/data/geometry/volume';
import { Rng } from '../../src/data/rng';

export const Region = { outside: 0, soft: 1, bone: 2, airPocket: 3 } as const;

export interface SyntheticCt {
  ct: Volume<Int16Array>;
  labels: Uint8Array;
}

/** Region boxes are fractions of each axis: soft block [0.12, 0.88], bone and air pocket inside it. */
export function syntheticCt(shape: Shape3, spacing: Vec3, seed = 7): SyntheticCt {
  const [D, H, W] = shape;
  const rng = new Rng(seed);
  const data = new Int16Array(D * H * W);
  const labels = new Uint8Array(D * H * W);
  const within = (f: number, lo: number, hi: number) => f >= lo && f <= hi;
  let i = 0;
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++, i++) {
        const fd = (d + 0.5) / D;
        const fh = (h + 0.5) / H;
        const fw = (w + 0.5) / W;
        let region: number = Region.outside;
        if (within(fd, 0.12, 0.88) && within(fh, 0.12, 0.88) && within(fw, 0.12, 0.88)) {
          region = Region.soft;
          if (within(fw, 0.45, 0.55) && within(fh, 0.2, 0.8)) region = Region.bone;
          else if (within(fh, 0.6, 0.75) && within(fw, 0.2, 0.35) && within(fd, 0.3, 0.7)) region = Region.airPocket;
        }
        labels[i] = region;
        const base = region === Region.soft ? 40 : region === Region.bone ? 700 : -1000;
        data[i] = Math.round(base + 10 * rng.normal());
      }
    }
  }
  return { ct: { data, shape, spacing, affine: scaleShiftAffine(spacing, [-10, 20, 5]) }, labels };
}
