// The dense-SSL pair sampler: two overlapping crops of one preprocessed scan, each at its own randomly
// drawn voxel spacing (resampled trilinearly), flipped and turned at random, plus n voxel positions
// in the overlap given in both crops' coordinates, so that the two embeddings at a position pair
// describe the same physical point (to within half a voxel of the second crop).
import { type Affine, applyAffine, identityAffine, invertAffine, multiplyAffines, scaleShiftAffine, type Shape3, type Vec3, type Volume, voxelCount } from '../data/geometry/volume';
import { augmentColour, DEFAULT_COLOUR_AUGMENT, type ColourAugmentOptions, type ColourStep } from './augment';
import { resampleTrilinear } from '../data/preprocess/resample';
import type { Rng } from '../data/rng';

export interface CropPairOptions {
  /** Crop size in voxels (D, H, W). */
  cropSize: Shape3;
  /** Per-axis [min, max] voxel spacing of a crop in mm; drawn independently for each crop and axis. */
  spacingRange: [Vec3, Vec3];
  /** Overlap along each axis as a fraction of the smaller crop's extent; default [0.25, 1]. */
  overlapRange?: [number, number];
  /** Number of voxel positions sampled in the overlap. */
  positions: number;
  /** Random flips of each axis; default true. */
  flips?: boolean;
  /** Random quarter turns in the axial (H, W) plane; odd turns only when H and W sizes agree. Default true. */
  rot90?: boolean;
  /** Colour augmentations, or false for none; default the paper's (each with probability 0.8). */
  colour?: ColourAugmentOptions | false;
  /** Value of crop voxels that fall outside the scan; default 0 (air after preprocessing). */
  padValue?: number;
}

export interface Crop {
  /** Intensities, row-major [D, H, W] of `shape`. */
  image: Float32Array;
  shape: Shape3;
  /** Maps a crop voxel index (d, h, w, 1) to a continuous voxel index of the scan. */
  toScan: Affine;
  /** Voxel size in mm along the scan's (D, H, W) axes (before any turn). */
  spacing: Vec3;
  flips: [boolean, boolean, boolean];
  quarterTurns: number;
  colour: ColourStep[];
}

export interface CropPair {
  crops: [Crop, Crop];
  /** positions[k][3 * i + a]: integer coordinate along axis a of the i-th sampled voxel in crop k. */
  positions: [Int32Array, Int32Array];
}

type Scan = Pick<Volume<Float32Array>, 'data' | 'shape' | 'spacing'>;

export function sampleCropPair(scan: Scan, options: CropPairOptions, rng: Rng): CropPair {
  const c = options.cropSize;
  const [lo, hi] = options.spacingRange;
  const [minOverlap, maxOverlap] = options.overlapRange ?? [0.25, 1];
  const spacing = [0, 1].map(() => [0, 1, 2].map((a) => rng.uniform(lo[a]!, hi[a]!)) as Vec3) as [Vec3, Vec3];
  // Box starts in scan millimetres, where scan voxel i has its centre at i * spacing.
  const start: [Vec3, Vec3] = [
    [0, 0, 0],
    [0, 0, 0],
  ];
  const overlap: [number, number][] = [];
  for (let a = 0; a < 3; a++) {
    const e1 = c[a]! * spacing[0][a]!;
    const e2 = c[a]! * spacing[1][a]!;
    const ov = rng.uniform(minOverlap, maxOverlap) * Math.min(e1, e2);
    const union = e1 + e2 - ov;
    const s0 = scan.spacing[a]!;
    const first = -0.5 * s0;
    const last = (scan.shape[a]! - 0.5) * s0;
    // Place the union of both boxes inside the scan when it fits, else centre it with some jitter.
    const u = union <= last - first ? rng.uniform(first, last - union) : rng.uniform(last - union, first);
    const firstIsOne = rng.bool();
    const [ea] = firstIsOne ? [e1, e2] : [e2, e1];
    const s1 = firstIsOne ? u : u + ea - ov;
    const s2 = firstIsOne ? u + ea - ov : u;
    start[0][a] = s1;
    start[1][a] = s2;
    overlap.push([Math.max(s1, s2), Math.min(s1 + e1, s2 + e2)]);
  }

  const positions: [Int32Array, Int32Array] = [new Int32Array(options.positions * 3), new Int32Array(options.positions * 3)];
  for (let i = 0; i < options.positions; i++) {
    for (let a = 0; a < 3; a++) {
      // A voxel centre of crop 1 inside the overlap, then the crop-2 voxel whose centre is nearest.
      const [olo, ohi] = overlap[a]!;
      const s1 = spacing[0][a]!;
      const s2 = spacing[1][a]!;
      const jlo = Math.max(0, Math.ceil((olo - start[0][a]!) / s1 - 0.5));
      const jhi = Math.min(c[a]! - 1, Math.floor((ohi - start[0][a]!) / s1 - 0.5));
      const j1 = jhi >= jlo ? rng.int(jlo, jhi) : Math.min(c[a]! - 1, Math.max(0, jlo));
      const mm = start[0][a]! + (j1 + 0.5) * s1;
      const j2 = Math.min(c[a]! - 1, Math.max(0, Math.round((mm - start[1][a]!) / s2 - 0.5)));
      positions[0][i * 3 + a] = j1;
      positions[1][i * 3 + a] = j2;
    }
  }

  const crops = [0, 1].map((k) => {
    // Crop voxel j -> scan index: (start + (j + 0.5) * spacing) / scanSpacing.
    const scale = [0, 1, 2].map((a) => spacing[k]![a]! / scan.spacing[a]!) as Vec3;
    const offset = [0, 1, 2].map((a) => (start[k]![a]! + 0.5 * spacing[k]![a]!) / scan.spacing[a]!) as Vec3;
    const raw = extractCrop(scan, c, scale, offset, options.padValue ?? 0);
    const turn = drawTurn(c, rng, options);
    const image = applyTurn(raw, c, turn);
    const toScan = multiplyAffines(scaleShiftAffine(scale, offset), invertAffine(turn.matrix));
    const p = positions[k]!;
    for (let i = 0; i < options.positions; i++) {
      const q = applyAffine(turn.matrix, [p[i * 3]!, p[i * 3 + 1]!, p[i * 3 + 2]!]);
      for (let a = 0; a < 3; a++) p[i * 3 + a] = Math.round(q[a]!);
    }
    const colourOptions = options.colour === undefined ? DEFAULT_COLOUR_AUGMENT : options.colour;
    const colour = colourOptions ? augmentColour(image, turn.shape, rng, colourOptions) : [];
    return { image, shape: turn.shape, toScan, spacing: spacing[k]!, flips: turn.flips, quarterTurns: turn.quarterTurns, colour } satisfies Crop;
  });
  return { crops: [crops[0]!, crops[1]!], positions };
}

/** Trilinear crop of the scan; voxels whose centre lies outside the scan get the pad value. */
function extractCrop(scan: Scan, shape: Shape3, scale: Vec3, offset: Vec3, pad: number): Float32Array {
  const image = resampleTrilinear(scan.data, scan.shape, shape, { scale, offset });
  const outside = [0, 1, 2].map((a) => {
    const flags = new Uint8Array(shape[a]!);
    for (let j = 0; j < shape[a]!; j++) {
      const x = scale[a]! * j + offset[a]!;
      flags[j] = x < -0.5 || x > scan.shape[a]! - 0.5 ? 1 : 0;
    }
    return flags;
  });
  let i = 0;
  for (let d = 0; d < shape[0]; d++) {
    for (let h = 0; h < shape[1]; h++) {
      for (let w = 0; w < shape[2]; w++, i++) if (outside[0]![d] || outside[1]![h] || outside[2]![w]) image[i] = pad;
    }
  }
  return image;
}

interface Turn {
  flips: [boolean, boolean, boolean];
  quarterTurns: number;
  /** Maps an index of the untouched crop to its index in the turned crop. */
  matrix: Affine;
  shape: Shape3;
}

function drawTurn(shape: Shape3, rng: Rng, options: CropPairOptions): Turn {
  const flips: [boolean, boolean, boolean] = options.flips === false ? [false, false, false] : [rng.bool(), rng.bool(), rng.bool()];
  let quarterTurns = 0;
  if (options.rot90 !== false) quarterTurns = shape[1] === shape[2] ? rng.int(0, 3) : 2 * rng.int(0, 1);
  let matrix = identityAffine();
  for (let a = 0; a < 3; a++) {
    if (!flips[a]) continue;
    const flip = scaleShiftAffine([a === 0 ? -1 : 1, a === 1 ? -1 : 1, a === 2 ? -1 : 1], [0, 1, 2].map((b) => (b === a ? shape[a]! - 1 : 0)));
    matrix = multiplyAffines(flip, matrix);
  }
  let current: Shape3 = [...shape];
  for (let t = 0; t < quarterTurns; t++) {
    // A quarter turn in the (H, W) plane: (h, w) -> (w, H - 1 - h); the plane's sides swap.
    const turn = identityAffine();
    turn.fill(0);
    turn[0] = 1; // d -> d
    turn[2 * 4 + 1] = 1; // h' = w
    turn[1 * 4 + 2] = -1; // w' = -h ...
    turn[12 + 2] = current[1] - 1; // ... + H - 1
    turn[15] = 1;
    matrix = multiplyAffines(turn, matrix);
    current = [current[0], current[2], current[1]];
  }
  return { flips, quarterTurns, matrix, shape: current };
}

/** Applies the turn's index map to an image (each output voxel reads its source voxel). */
function applyTurn(image: Float32Array, shape: Shape3, turn: Turn): Float32Array {
  if (!turn.flips.some(Boolean) && turn.quarterTurns === 0) return image;
  const inverse = invertAffine(turn.matrix);
  const out = new Float32Array(voxelCount(shape));
  const [, H, W] = shape;
  const [D2, H2, W2] = turn.shape;
  // The inverse is integer-valued; step it incrementally along w to avoid a matrix product per voxel.
  const m = (r: number, col: number) => Math.round(inverse[col * 4 + r]!);
  let i = 0;
  for (let d = 0; d < D2; d++) {
    for (let h = 0; h < H2; h++) {
      let sd = m(0, 0) * d + m(0, 1) * h + m(0, 3);
      let sh = m(1, 0) * d + m(1, 1) * h + m(1, 3);
      let sw = m(2, 0) * d + m(2, 1) * h + m(2, 3);
      const dd = m(0, 2), dh = m(1, 2), dw = m(2, 2);
      for (let w = 0; w < W2; w++, i++) {
        out[i] = image[(sd * H + sh) * W + sw]!;
        sd += dd;
        sh += dh;
        sw += dw;
      }
    }
  }
  return out;
}
