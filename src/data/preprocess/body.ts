// The body mask: the largest 3-D connected component above a HU threshold (the patient, not the
// table or stray air-gap noise), with its enclosed holes (lungs, bowel gas) filled slice by slice so
// that "inside the body" includes them. Evaluation counts only voxels inside this mask.
import { keepLargestComponent } from './largest-component';
import { DataError } from '../errors';
import { multiplyAffines, scaleShiftAffine, type Shape3, type Vec3, type Volume, type VoxelArray, voxelCount } from '../geometry/volume';

export const BODY_THRESHOLD_HU = -500;

export interface Box {
  /** First voxel (d, h, w) inside the box. */
  start: Shape3;
  /** Box size in voxels. */
  shape: Shape3;
}

/** The largest 6-connected component of `foreground`, as a new 0/1 mask. */
export function largestComponent(foreground: Uint8Array, shape: Shape3): { mask: Uint8Array; size: number } {
  const mask = foreground.slice();
  return { mask, size: keepLargestComponent(mask, shape) };
}

/** Fills, in each axial slice, the background not reachable from the slice border (4-connected). */
export function fillHolesPerSlice(mask: Uint8Array, shape: Shape3, onSlice?: (done: number, total: number) => void): void {
  const [D, H, W] = shape;
  const area = H * W;
  const outside = new Uint8Array(area);
  const queue = new Int32Array(area);
  for (let d = 0; d < D; d++) {
    const base = d * area;
    outside.fill(0);
    let tail = 0;
    const push = (p: number) => {
      if (!mask[base + p] && !outside[p]) {
        outside[p] = 1;
        queue[tail++] = p;
      }
    };
    for (let w = 0; w < W; w++) push(w), push((H - 1) * W + w);
    for (let h = 0; h < H; h++) push(h * W), push(h * W + W - 1);
    for (let head = 0; head < tail; head++) {
      const p = queue[head]!;
      const w = p % W;
      if (w > 0) push(p - 1);
      if (w < W - 1) push(p + 1);
      if (p >= W) push(p - W);
      if (p < area - W) push(p + W);
    }
    for (let p = 0; p < area; p++) if (!outside[p]) mask[base + p] = 1;
    onSlice?.(d + 1, D);
  }
}

/** Bounding box of the set voxels, or undefined when none is set. */
export function boundingBox(mask: Uint8Array, shape: Shape3): Box | undefined {
  const [D, H, W] = shape;
  const lo = [D, H, W];
  const hi = [-1, -1, -1];
  let i = 0;
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++, i++) {
        if (!mask[i]) continue;
        if (d < lo[0]!) lo[0] = d;
        if (d > hi[0]!) hi[0] = d;
        if (h < lo[1]!) lo[1] = h;
        if (h > hi[1]!) hi[1] = h;
        if (w < lo[2]!) lo[2] = w;
        if (w > hi[2]!) hi[2] = w;
      }
    }
  }
  if (hi[0]! < 0) return undefined;
  return { start: lo as Shape3, shape: [0, 1, 2].map((a) => hi[a]! - lo[a]! + 1) as Shape3 };
}

/** Called during bodyMask with its step, work done and total work of that step. */
export type BodyMaskProgress = (step: string, done: number, total: number) => void;

/** Body mask of a CT in HU and the box around it. */
export function bodyMask(
  ct: Volume<VoxelArray>,
  source: string,
  thresholdHu = BODY_THRESHOLD_HU,
  onProgress?: BodyMaskProgress,
): { mask: Uint8Array; box: Box } {
  const n = voxelCount(ct.shape);
  // One byte per voxel is all this needs: the threshold, the component search and the hole filling
  // all work in this one array.
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = ct.data[i]! > thresholdHu ? 1 : 0;
  const size = keepLargestComponent(mask, ct.shape, onProgress && ((done, total) => onProgress('body: largest component', done, total)));
  if (size === 0) throw new DataError(source, `no body found: no voxel is above ${thresholdHu} HU`);
  fillHolesPerSlice(mask, ct.shape, onProgress && ((done, total) => onProgress('body: filling holes', done, total)));
  return { mask, box: boundingBox(mask, ct.shape)! };
}

/** Copies the box out of a volume; the affine moves so every kept voxel keeps its world position. */
export function cropVolume<T extends VoxelArray>(volume: Volume<T>, box: Box): Volume<T> {
  const [, H, W] = volume.shape;
  const [bd, bh, bw] = box.shape;
  const out = new (volume.data.constructor as new (n: number) => T)(bd * bh * bw);
  let o = 0;
  for (let d = 0; d < bd; d++) {
    for (let h = 0; h < bh; h++) {
      const from = ((box.start[0] + d) * H + box.start[1] + h) * W + box.start[2];
      out.set(volume.data.subarray(from, from + bw) as never, o);
      o += bw;
    }
  }
  return {
    data: out,
    shape: [...box.shape] as Shape3,
    spacing: [...volume.spacing] as Vec3,
    affine: multiplyAffines(volume.affine, scaleShiftAffine([1, 1, 1], box.start)),
  };
}
