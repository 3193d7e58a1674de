// Scans end where the field of view ends, not where the body does: a CT is cut above and below, and the
// body goes on beyond those faces. A sliding window whose border lies on such a face sees nothing past
// it, and the face's voxels are only ever blended from window borders, where a network has the least
// context, while every other voxel is blended mostly from window centres. Mirroring the scan past its
// cut faces by half a window puts those voxels at window centres too, with tissue on both sides.
// A face is cut when the body box of preprocessing reaches the scan's own face there; faces where the
// body box stops inside the scan border air and stay as they are. predictPreprocessed pads, predicts and
// crops when told a scan's cut faces. No Node imports: pages run this too.
import type { Shape3 } from '../data/geometry/volume';

/** Which faces of a scan the field of view cut through the body, per axis [D, H, W]. */
export interface CutFaces {
  before: [boolean, boolean, boolean];
  after: [boolean, boolean, boolean];
}

/** A scan's cut faces: where the body box of preprocessing reaches the scan's own face. */
export function cutFacesOf(geometry: { crop: { start: readonly number[]; shape: readonly number[] }; originalShape: readonly number[] }): CutFaces {
  const { crop, originalShape } = geometry;
  const axes = [0, 1, 2] as const;
  return {
    before: axes.map((a) => crop.start[a] === 0) as [boolean, boolean, boolean],
    after: axes.map((a) => crop.start[a]! + crop.shape[a]! === originalShape[a]) as [boolean, boolean, boolean],
  };
}

export interface FacePadding {
  /** Voxels added before the first voxel of each axis. */
  before: Shape3;
  /** Voxels added after the last voxel of each axis. */
  after: Shape3;
}

export function hasPadding(p: FacePadding): boolean {
  return [...p.before, ...p.after].some((v) => v > 0);
}

/**
 * The padding of each cut face of a preprocessed scan of `shape`: half the window along that axis, a
 * multiple of the pooling stride (so the pooled cells keep their places), and at most the axis's length
 * less one (a mirror cannot reach further than the scan).
 */
export function cutFacePadding(faces: CutFaces, shape: Shape3, window: Shape3, stride: Shape3 = [1, 1, 1]): FacePadding {
  const before: Shape3 = [0, 0, 0];
  const after: Shape3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const size = Math.min(Math.floor(window[a]! / 2), shape[a]! - 1);
    const pad = size - (size % stride[a]!);
    if (faces.before[a]) before[a] = pad;
    if (faces.after[a]) after[a] = pad;
  }
  return { before, after };
}

export function paddedShape(shape: Shape3, p: FacePadding): Shape3 {
  return [0, 1, 2].map((a) => shape[a]! + p.before[a]! + p.after[a]!) as Shape3;
}

/** Index into an axis of length n of position i in [-n + 1, 2n - 2], mirrored about the end voxels. */
function mirror(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/** `data` (row-major [D, H, W]) mirrored past its faces by `p`, in an array of its own type. */
export function padFaces<T extends Float32Array | Uint8Array>(data: T, shape: Shape3, p: FacePadding): T {
  const [D, H, W] = shape;
  const [PD, PH, PW] = paddedShape(shape, p);
  // By element type, not data.constructor: a Node Buffer's constructor is the deprecated Buffer(n).
  const out = (data instanceof Float32Array ? new Float32Array(PD * PH * PW) : new Uint8Array(PD * PH * PW)) as T;
  let o = 0;
  for (let d = 0; d < PD; d++) {
    const sd = d - p.before[0];
    for (let h = 0; h < PH; h++) {
      const sh = h - p.before[1];
      for (let w = 0; w < PW; w++, o++) {
        out[o] = data[(mirror(sd, D) * H + mirror(sh, H)) * W + mirror(w - p.before[2], W)]!;
      }
    }
  }
  return out;
}

/** The part of a padded array (row-major over paddedShape(shape, p)) that covers the scan itself. */
export function cropPadding(padded: Float32Array, shape: Shape3, p: FacePadding): Float32Array {
  const [D, H, W] = shape;
  const [, PH, PW] = paddedShape(shape, p);
  const out = new Float32Array(D * H * W);
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      const from = ((d + p.before[0]) * PH + h + p.before[1]) * PW + p.before[2];
      out.set(padded.subarray(from, from + W), (d * H + h) * W);
    }
  }
  return out;
}
