// Connected components of a 3-D mask, by breadth-first flood fill. Lesions are counted with full
// 26-connectivity (as scikit-image's default for 3-D labels); the body crop uses face neighbours.
import type { Shape3 } from '../geometry/volume';

export type Connectivity = 6 | 26;

export interface Components {
  /** 0 for background, 1..count for each component, in scan order of their first voxel. */
  labels: Int32Array;
  /** sizes[k - 1] is the voxel count of component k. */
  sizes: number[];
}

function neighbourOffsets(connectivity: Connectivity): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let dd = -1; dd <= 1; dd++)
    for (let dh = -1; dh <= 1; dh++)
      for (let dw = -1; dw <= 1; dw++) {
        const steps = Math.abs(dd) + Math.abs(dh) + Math.abs(dw);
        if (steps === 0 || (connectivity === 6 && steps > 1)) continue;
        out.push([dd, dh, dw]);
      }
  return out;
}

export function labelComponents(mask: ArrayLike<number>, shape: Shape3, connectivity: Connectivity = 26): Components {
  const [D, H, W] = shape;
  const n = D * H * W;
  if (mask.length !== n) throw new RangeError(`labelComponents: mask has ${mask.length} voxels, shape ${shape.join('x')} has ${n}`);
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  const offsets = neighbourOffsets(connectivity);
  const sizes: number[] = [];
  for (let seed = 0; seed < n; seed++) {
    if (!mask[seed] || labels[seed]) continue;
    const id = sizes.length + 1;
    labels[seed] = id;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const i = queue[head++]!;
      const w = i % W;
      const h = ((i - w) / W) % H;
      const d = (i - w - h * W) / (W * H);
      for (const [dd, dh, dw] of offsets) {
        const nd = d + dd;
        const nh = h + dh;
        const nw = w + dw;
        if (nd < 0 || nd >= D || nh < 0 || nh >= H || nw < 0 || nw >= W) continue;
        const j = (nd * H + nh) * W + nw;
        if (mask[j] && !labels[j]) {
          labels[j] = id;
          queue[tail++] = j;
        }
      }
    }
    sizes.push(tail);
  }
  return { labels, sizes };
}
