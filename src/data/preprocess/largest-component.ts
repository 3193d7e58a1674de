// The largest 6-connected component of a 0/1 mask, found in the mask's own bytes. The body crop runs
// it on every scan at full resolution, where a label array and a queue of one int32 per voxel (what
// labelComponents needs) would take eight times the mask: 840 MB on a 512 x 512 x 400 scan. Here
// each voxel's state is kept in its mask byte, and the breadth-first queue is a ring that holds only
// the frontier, which grows with a component's cross-section, not its volume.
import type { Shape3 } from '../geometry/volume';

const UNSEEN = 1; // foreground not yet visited
const SEEN = 2; // visited, in a component not (yet) the largest
const KEPT = 3; // in the largest component

/** A growable ring buffer of voxel indices (the breadth-first frontier). */
class Ring {
  private items = new Int32Array(1 << 10);
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(i: number): void {
    if (this.size === this.items.length) {
      const grown = new Int32Array(this.items.length * 2);
      for (let k = 0; k < this.size; k++) grown[k] = this.items[(this.head + k) & (this.items.length - 1)]!;
      this.items = grown;
      this.head = 0;
    }
    this.items[(this.head + this.size++) & (this.items.length - 1)] = i;
  }

  shift(): number {
    const i = this.items[this.head]!;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return i;
  }
}

/** Called now and then with work done and the total work (voxels scanned plus voxels visited twice). */
export type ComponentProgress = (done: number, total: number) => void;

/** Voxel visits between two progress reports. */
const REPORT_EVERY = 1 << 20;

/** Marks every voxel 6-connected to `seed` whose state is `from` as `to`; returns how many. */
function flood(mask: Uint8Array, shape: Shape3, seed: number, from: number, to: number, ring: Ring, report?: (visits: number) => void): number {
  const [D, H, W] = shape;
  const area = H * W;
  mask[seed] = to;
  ring.push(seed);
  let count = 0;
  while (ring.length > 0) {
    const i = ring.shift();
    if (++count % REPORT_EVERY === 0) report?.(count);
    const w = i % W;
    const h = ((i - w) / W) % H;
    const d = (i - w - h * W) / area;
    if (w > 0 && mask[i - 1] === from) (mask[i - 1] = to), ring.push(i - 1);
    if (w < W - 1 && mask[i + 1] === from) (mask[i + 1] = to), ring.push(i + 1);
    if (h > 0 && mask[i - W] === from) (mask[i - W] = to), ring.push(i - W);
    if (h < H - 1 && mask[i + W] === from) (mask[i + W] = to), ring.push(i + W);
    if (d > 0 && mask[i - area] === from) (mask[i - area] = to), ring.push(i - area);
    if (d < D - 1 && mask[i + area] === from) (mask[i + area] = to), ring.push(i + area);
  }
  return count;
}

/**
 * Turns `mask` (0/1) into the 0/1 mask of its largest 6-connected component, in place; ties go to the
 * component met first in scan order. Returns the component's size (0 for an empty mask).
 */
export function keepLargestComponent(mask: Uint8Array, shape: Shape3, onProgress?: ComponentProgress): number {
  const ring = new Ring();
  let best = -1;
  let bestSize = 0;
  let foreground = 0;
  if (onProgress) for (let i = 0; i < mask.length; i++) foreground += mask[i]!;
  // Work: the scan for seeds, a visit of every foreground voxel, a second visit of the largest part.
  const total = mask.length + 2 * foreground;
  let visited = 0;
  for (let seed = 0; seed < mask.length; seed++) {
    if (mask[seed] !== UNSEEN) continue;
    const size = flood(mask, shape, seed, UNSEEN, SEEN, ring, onProgress && ((n) => onProgress(seed + visited + n, total)));
    visited += size;
    if (size > bestSize) (best = seed), (bestSize = size);
  }
  const scanned = mask.length + visited;
  if (best >= 0) flood(mask, shape, best, SEEN, KEPT, ring, onProgress && ((n) => onProgress(scanned + n, total)));
  onProgress?.(total, total);
  for (let i = 0; i < mask.length; i++) mask[i] = mask[i] === KEPT ? 1 : 0;
  return bestSize;
}
