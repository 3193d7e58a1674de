// The anomaly map put back onto the scan's original grid and affine, one slab of original slices at
// a time: a 512 x 512 x 400 scan's map is 420 MB of float32, and the writer needs only a slab of it at
// once. Voxels outside the body (on either grid) get the minimum of the map inside the body, so that
// nothing outside the body ever outranks a voxel in it. No Node imports: pages use it too.
import type { PreprocessedScan } from '../data/preprocess/preprocess';
import { resampleTrilinear, type GridMap } from '../data/preprocess/resample';
import type { Vec3 } from '../data/geometry/volume';

/** The lowest score inside the body (of the whole map when no voxel is in it), and the map with it everywhere outside the body. */
export function floorOutsideBody(map: Float32Array, body: Uint8Array): { floor: number; inside: Float32Array } {
  let floor = Infinity;
  for (let i = 0; i < map.length; i++) if (body[i] && map[i]! < floor) floor = map[i]!;
  if (floor === Infinity) for (let i = 0; i < map.length; i++) floor = Math.min(floor, map[i]!); // no body voxel there
  return { floor, inside: Float32Array.from(map, (v, i) => (body[i] ? v : floor)) };
}

export class AnomalyOnOriginalGrid {
  /** The lowest score inside the body: the score of every voxel outside it. */
  readonly floor: number;
  /** The map on the preprocessed grid, with the floor outside the body. */
  private readonly inside: Float32Array;
  private readonly inverse: GridMap;

  constructor(
    map: Float32Array,
    private readonly scan: PreprocessedScan,
  ) {
    ({ floor: this.floor, inside: this.inside } = floorOutsideBody(map, scan.body.data));
    const { map: grid } = scan.geometry;
    this.inverse = {
      scale: grid.scale.map((s) => 1 / s) as Vec3,
      offset: grid.offset.map((o, a) => -o / grid.scale[a]!) as Vec3,
    };
  }

  /** Original slices [from, to) of the map, row-major: trilinear inside the body box, the floor elsewhere. */
  slab(from: number, to: number): Float32Array {
    const { originalShape, crop, shape } = this.scan.geometry;
    const [, H, W] = originalShape;
    const area = H * W;
    const out = new Float32Array((to - from) * area).fill(this.floor);
    const first = Math.max(from, crop.start[0]);
    const last = Math.min(to, crop.start[0] + crop.shape[0]);
    if (last > first) {
      const inside = resampleTrilinear(this.inside, shape, crop.shape, this.inverse, { slices: [first - crop.start[0], last - crop.start[0]] });
      const [, ch, cw] = crop.shape;
      for (let d = first; d < last; d++) {
        for (let h = 0; h < ch; h++) {
          const at = ((d - first) * ch + h) * cw;
          out.set(inside.subarray(at, at + cw), (d - from) * area + (crop.start[1] + h) * W + crop.start[2]);
        }
      }
    }
    const body = this.scan.originalBody.data;
    const base = from * area;
    for (let i = 0; i < out.length; i++) if (!body[base + i]) out[i] = this.floor;
    return out;
  }
}
