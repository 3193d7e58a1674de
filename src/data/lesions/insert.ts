// Synthetic lesions inserted into a real CT, for validation with known ground truth (in the manner of
// the MOOD challenge's synthetic anomalies): smooth, randomly oriented ellipsoids of 10-40 mm in soft
// tissue, each shifting the tissue's own HU by 25-80 HU either way (hypo- or hyperdense) and adding its
// own smooth texture. The change is added to the original voxels, so the scanner's noise stays.
//
// Everything is drawn from one generator seeded by (seed, case id): the same seed and case give the
// same bytes on every platform, and adding or removing other cases changes nothing here.
// Pure: works on a Volume, no file system, so it runs in Node and in browsers alike.
import { applyAffine, type Shape3, type Vec3, type Volume, type VoxelArray, voxelCount } from '../geometry/volume';
import { datatypeOfArray, NIFTI_DATATYPES } from '../io/nifti-types';
import { Rng } from '../rng';
import { blendWeights, ellipsoidBox, randomRadii, randomRotation, type Ellipsoid } from './ellipsoid';
import { tissueMaps } from './soft-tissue';
import { correlatedNoise } from './texture';

/** The ranges lesions are drawn from (uniformly), and the placement rules. Written into case.json. */
export const LESION_RULES = {
  /** Volume-equivalent diameter. */
  diameterMm: [10, 40] as [number, number],
  /** Each semi-axis varies by up to this fraction about the diameter's radius. */
  radiusSpread: 0.2,
  /** Magnitude of the mean HU change inside the mask; the sign is drawn too (hypo- or hyperdense). */
  shiftHu: [25, 80] as [number, number],
  /** Width of the boundary's 10 %-90 % ramp. */
  edgeMm: [1, 2] as [number, number],
  /** Standard deviation and correlation length of the lesion's own texture. */
  textureStdHu: [3, 15] as [number, number],
  textureCorrelationMm: [3, 8] as [number, number],
  /** At least this fraction of the lesion's voxels (weight >= 0.5) must be soft tissue. */
  minSoftFraction: 0.9,
  /** Positions tried per lesion before it is skipped; the size is drawn again every `redrawEvery` tries. */
  attempts: 200,
  redrawEvery: 20,
  /** A centre must lie at least this fraction of the smallest semi-axis deep in soft tissue. */
  centreDepthFraction: 0.6,
};

export interface InsertOptions {
  seed: number;
  /** The case's id (its folder path in the data set); with the seed it fixes everything drawn. */
  caseId: string;
  /** Each case gets between 1 and this many lesions (drawn). */
  maxLesions: number;
}

export interface InsertedLesion {
  /** 1, 2, ... in the order placed. */
  index: number;
  /** Centre in voxels (d, h, w) and in world mm (the scan's affine). */
  centreVoxel: Vec3;
  centreMm: Vec3;
  /** Volume-equivalent diameter of the ellipsoid, and its semi-axes. */
  diameterMm: number;
  radiiMm: Vec3;
  /** Rows: the principal axes (unit vectors) in the (D, H, W) millimetre frame. */
  rotation: [Vec3, Vec3, Vec3];
  edgeMm: number;
  /** Mean HU change over the lesion's mask (what it was drawn as), and the change at full weight. */
  huShift: number;
  coreHuShift: number;
  texture: { stdHu: number; correlationMm: number };
  /** Voxels in the mask, its volume and volume-equivalent diameter. */
  voxels: number;
  volumeMl: number;
  maskDiameterMm: number;
  /** Fraction of the ellipsoid's voxels in soft tissue. */
  softFraction: number;
  /** Mean HU change over the mask as written (after rounding to the scan's type). */
  measuredMeanChangeHu: number;
  /** Positions tried before this one was accepted. */
  attempts: number;
}

export interface SkippedLesion {
  index: number;
  reason: string;
}

export interface InsertResult<T extends VoxelArray> {
  caseSeed: number;
  /** Lesions drawn for this case (placed + skipped). */
  requested: number;
  ct: Volume<T>;
  /** 1 on the inserted lesions' voxels only. */
  mask: Volume<Uint8Array>;
  lesions: InsertedLesion[];
  skipped: SkippedLesion[];
  softVoxels: number;
}

/** The generator seed of one case: FNV-1a of "seed/caseId", so each case has its own stream. */
export function lesionCaseSeed(seed: number, caseId: string): number {
  let h = 0x811c9dc5;
  const text = `${seed}/${caseId}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

interface Draw {
  diameterMm: number;
  radiiMm: Vec3;
  rotation: [Vec3, Vec3, Vec3];
  edgeMm: number;
  shiftHu: number;
  textureStdHu: number;
  textureCorrelationMm: number;
}

function drawLesion(rng: Rng): Draw {
  const r = LESION_RULES;
  const diameterMm = rng.uniform(...r.diameterMm);
  return {
    diameterMm,
    radiiMm: randomRadii(rng, diameterMm, r.radiusSpread),
    rotation: randomRotation(rng),
    edgeMm: rng.uniform(...r.edgeMm),
    shiftHu: (rng.bool() ? 1 : -1) * rng.uniform(...r.shiftHu),
    textureStdHu: rng.uniform(...r.textureStdHu),
    textureCorrelationMm: rng.uniform(...r.textureCorrelationMm),
  };
}

export function insertLesions<T extends VoxelArray>(ct: Volume<T>, options: InsertOptions): InsertResult<T> {
  if (!(Number.isInteger(options.maxLesions) && options.maxLesions >= 1)) throw new RangeError(`maxLesions must be an integer >= 1, got ${options.maxLesions}`);
  const { shape, spacing } = ct;
  const [, H, W] = shape;
  const n = voxelCount(shape);
  const caseSeed = lesionCaseSeed(options.seed, options.caseId);
  const caseRng = new Rng(caseSeed);
  const requested = caseRng.int(1, options.maxLesions);

  const out = ct.data.slice() as T;
  const type = NIFTI_DATATYPES[datatypeOfArray(ct.data)];
  const store = (v: number) => (type.integer ? Math.min(type.max, Math.max(type.min, Math.round(v))) : v);
  const mask = new Uint8Array(n);
  // Voxels any placed lesion reaches (weight > 0), grown by one voxel: a new lesion's reach may not
  // touch them, so masks never overlap, nor touch (each lesion is its own connected component), and
  // neither do the soft edges around them.
  const occupied = new Uint8Array(n);
  const lesions: InsertedLesion[] = [];
  const skipped: SkippedLesion[] = [];

  const maps = tissueMaps(ct);
  // Soft voxels, deepest first: the candidates for a centre at depth >= t are a prefix of this list.
  const bySoftDepth = new Int32Array(maps.softCount);
  {
    let k = 0;
    for (let i = 0; i < n; i++) if (maps.soft[i]) bySoftDepth[k++] = i;
    bySoftDepth.sort((a, b) => maps.softDepthMm[b]! - maps.softDepthMm[a]! || a - b);
  }
  const candidatesDeeperThan = (depthMm: number) => {
    let lo = 0;
    let hi = bySoftDepth.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (maps.softDepthMm[bySoftDepth[mid]!]! >= depthMm) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  for (let index = 1; index <= requested; index++) {
    // Each lesion its own stream, so a retry in one lesion does not change the next one's draws.
    const rng = caseRng.fork();
    if (maps.problem) {
      skipped.push({ index, reason: maps.problem });
      continue;
    }
    const rejected = { tooLarge: 0, gridEdge: 0, overlap: 0, notSoft: 0 };
    let draw = drawLesion(rng);
    let accepted: { ellipsoid: Ellipsoid; box: NonNullable<ReturnType<typeof ellipsoidBox>>; weights: Float32Array; softFraction: number; attempts: number } | undefined;
    for (let attempt = 0; attempt < LESION_RULES.attempts && !accepted; attempt++) {
      if (attempt > 0 && attempt % LESION_RULES.redrawEvery === 0) draw = drawLesion(rng);
      const count = candidatesDeeperThan(LESION_RULES.centreDepthFraction * Math.min(...draw.radiiMm));
      if (count === 0) {
        rejected.tooLarge++;
        continue;
      }
      const centreIndex = bySoftDepth[rng.int(0, count - 1)]!;
      if (occupied[centreIndex]) {
        rejected.overlap++;
        continue;
      }
      const cw = centreIndex % W;
      const ch = Math.floor(centreIndex / W) % H;
      const cd = Math.floor(centreIndex / (W * H));
      const ellipsoid: Ellipsoid = { centre: [cd, ch, cw], radiiMm: draw.radiiMm, axes: draw.rotation, edgeMm: draw.edgeMm };
      const box = ellipsoidBox(ellipsoid, shape, spacing);
      if (!box) {
        rejected.gridEdge++;
        continue;
      }
      const weights = blendWeights(ellipsoid, spacing, box);
      let inside = 0;
      let soft = 0;
      let overlaps = false;
      forEachBoxVoxel(box, H, W, (b, i) => {
        const w = weights[b]!;
        if (w > 0 && occupied[i]) overlaps = true;
        if (w >= 0.5) {
          inside++;
          if (maps.soft[i]) soft++;
        }
      });
      if (overlaps) {
        rejected.overlap++;
        continue;
      }
      if (inside === 0 || soft < LESION_RULES.minSoftFraction * inside) {
        rejected.notSoft++;
        continue;
      }
      accepted = { ellipsoid, box, weights, softFraction: soft / inside, attempts: attempt + 1 };
    }
    if (!accepted) {
      skipped.push({ index, reason: skipReason(rejected) });
      continue;
    }

    const { ellipsoid, box, weights } = accepted;
    const texture = correlatedNoise(rng, box, spacing, draw.textureCorrelationMm, weights);
    // The mask: ellipsoid voxels (weight >= 0.5) that the lesion may change (air and bone it may not).
    // Scale the change so its mean over the mask is exactly the drawn shift, whatever the share of
    // partial-volume voxels at the boundary, and centre the texture there so it adds no mean.
    let voxels = 0;
    let sumW = 0;
    let sumWT = 0;
    forEachBoxVoxel(box, H, W, (b, i) => {
      const w = weights[b]!;
      if (w >= 0.5 && !maps.hostile[i]) {
        voxels++;
        sumW += w;
        sumWT += w * texture[b]!;
      }
    });
    const coreShift = (draw.shiftHu * voxels) / sumW;
    const textureMean = sumWT / sumW;
    let changed = 0;
    forEachBoxVoxel(box, H, W, (b, i) => {
      const w = weights[b]!;
      if (w > 0) occupyWithNeighbours(occupied, i, shape);
      if (w === 0 || maps.hostile[i]) return;
      const before = ct.data[i]!;
      out[i] = store(before + w * (coreShift + draw.textureStdHu * (texture[b]! - textureMean)));
      if (w >= 0.5) {
        mask[i] = 1;
        changed += out[i]! - before;
      }
    });
    const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
    lesions.push({
      index,
      centreVoxel: ellipsoid.centre,
      centreMm: applyAffine(ct.affine, ellipsoid.centre),
      diameterMm: draw.diameterMm,
      radiiMm: draw.radiiMm,
      rotation: draw.rotation,
      edgeMm: draw.edgeMm,
      huShift: draw.shiftHu,
      coreHuShift: coreShift,
      texture: { stdHu: draw.textureStdHu, correlationMm: draw.textureCorrelationMm },
      voxels,
      volumeMl: voxels * voxelMl,
      maskDiameterMm: Math.cbrt((6 * voxels * voxelMl * 1000) / Math.PI),
      softFraction: accepted.softFraction,
      measuredMeanChangeHu: changed / voxels,
      attempts: accepted.attempts,
    });
  }

  return {
    caseSeed,
    requested,
    ct: { ...ct, data: out },
    mask: { data: mask, shape: [...shape] as Shape3, spacing: [...spacing] as Vec3, affine: ct.affine },
    lesions,
    skipped,
    softVoxels: maps.softCount,
  };
}

function occupyWithNeighbours(occupied: Uint8Array, i: number, shape: Shape3): void {
  const [D, H, W] = shape;
  const w = i % W;
  const h = Math.floor(i / W) % H;
  const d = Math.floor(i / (W * H));
  for (let dd = Math.max(0, d - 1); dd <= Math.min(D - 1, d + 1); dd++)
    for (let hh = Math.max(0, h - 1); hh <= Math.min(H - 1, h + 1); hh++)
      for (let ww = Math.max(0, w - 1); ww <= Math.min(W - 1, w + 1); ww++) occupied[(dd * H + hh) * W + ww] = 1;
}

/** Calls fn(index in the box, index in the volume) for every voxel of the box. */
function forEachBoxVoxel(box: { start: Vec3; size: Vec3 }, H: number, W: number, fn: (b: number, i: number) => void): void {
  let b = 0;
  for (let d = 0; d < box.size[0]; d++) {
    for (let h = 0; h < box.size[1]; h++) {
      let i = ((box.start[0] + d) * H + box.start[1] + h) * W + box.start[2];
      for (let w = 0; w < box.size[2]; w++, b++, i++) fn(b, i);
    }
  }
}

function skipReason(rejected: { tooLarge: number; gridEdge: number; overlap: number; notSoft: number }): string {
  const parts: string[] = [];
  if (rejected.tooLarge) parts.push(`${rejected.tooLarge} too large for any soft-tissue region`);
  if (rejected.notSoft) parts.push(`${rejected.notSoft} under ${LESION_RULES.minSoftFraction * 100} % soft tissue`);
  if (rejected.overlap) parts.push(`${rejected.overlap} touching another lesion`);
  if (rejected.gridEdge) parts.push(`${rejected.gridEdge} reaching past the grid`);
  return `no room: ${LESION_RULES.attempts} positions tried (${parts.join(', ')})`;
}
