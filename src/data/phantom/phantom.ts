// Synthetic CT phantoms: a seeded torso in HU with lesions and their masks, finished like a scan
// (partial-volume blur, then correlated noise). The same options give the same bytes everywhere.
import { affineFromRows, type Shape3, type Vec3, type Volume, voxelCount } from '../geometry/volume';
import { gaussianBlur3d } from '../preprocess/filters';
import { resampleTrilinear, sameExtentMap } from '../preprocess/resample';
import { Rng } from '../rng';
import { drawAnatomy } from './anatomy';
import { Canvas, Tissue } from './canvas';
import { LESION_KINDS, placeLesion, type LesionKind, type LesionRequest, type PlacedLesion } from './lesions';

export interface PhantomOptions {
  seed: number;
  /** Lesions to place (a kind, or a kind with its diameter); default: 1 to 3 kinds drawn from `kindPool`. */
  lesions?: readonly (LesionKind | LesionRequest)[];
  /** Kinds the default draw picks from; default every kind. */
  kindPool?: readonly LesionKind[];
  /** No lesions at all. */
  healthy?: boolean;
  /** Typical number of voxels along a side; default 112 (each axis varies around it with the seed). */
  size?: number;
  /**
   * Also the same scan without its lesions (`ctWithoutLesions`): the same anatomy, texture and noise, so
   * that what a method scores differently between the two comes from the lesions alone.
   */
  withoutLesions?: boolean;
}

export interface Phantom {
  /** HU, int16-valued. */
  ct: Volume<Int16Array>;
  /** 1 inside any lesion. */
  lesion: Volume<Uint8Array>;
  /** Per voxel, the lesion kind's label (index in LESION_KINDS + 1), 0 outside lesions. */
  lesionKinds: Volume<Uint8Array>;
  lesions: PlacedLesion[];
  /** Tissue label per voxel (see Tissue), before blur and noise. */
  tissues: Uint8Array;
  /** The same scan without its lesions, when PhantomOptions.withoutLesions asked for it. */
  ctWithoutLesions?: Volume<Int16Array>;
}

export function generatePhantom(options: PhantomOptions): Phantom {
  const rng = new Rng(options.seed);
  const size = options.size ?? 112;
  const shape: Shape3 = [
    Math.round(size * rng.uniform(0.85, 1.05)),
    Math.round(size * rng.uniform(0.8, 0.92)),
    Math.round(size * rng.uniform(1.0, 1.12)),
  ];
  // Voxel size scales with the grid so the body fits whatever `size` is asked for.
  const inPlane = rng.uniform(2.7, 3.2) * (112 / size);
  const spacing: Vec3 = [rng.uniform(2.5, 3.5) * (112 / size), inPlane, inPlane];
  const canvas = new Canvas(shape, spacing);
  drawAnatomy(canvas, rng.fork());
  addTexture(canvas, rng.fork());

  const n = voxelCount(shape);
  const mask = new Uint8Array(n);
  const kinds = new Uint8Array(n);
  const lesions: PlacedLesion[] = [];
  const huWithoutLesions = options.withoutLesions ? canvas.hu.slice() : undefined;
  if (!options.healthy) {
    const lesionRng = rng.fork();
    let wanted = options.lesions;
    if (!wanted) {
      const pool = [...(options.kindPool ?? LESION_KINDS)];
      wanted = lesionRng.shuffle(pool).slice(0, lesionRng.int(1, Math.min(3, pool.length)));
    }
    for (const request of wanted) {
      const placed = placeLesion(canvas, lesionRng, request, mask, kinds);
      if (placed) lesions.push(placed);
    }
  }

  // One seed for the finish (what rng.fork() would draw), so a scan without lesions gets the same noise.
  const finishSeed = rng.nextUint32();
  const finished = (hu: Float32Array) => toHounsfieldInt16(finishLikeCt(hu, shape, new Rng(finishSeed)));
  const ctData = finished(canvas.hu);
  const ctWithoutLesions = huWithoutLesions && finished(huWithoutLesions);

  // LPS-like orientation, as scanners write: W towards the patient's left, H towards the back,
  // D towards the head. In the RAS+ world that is x = -w, y = -h, z = +d; affine columns in (D, H, W).
  const origin: Vec3 = [rng.uniform(-200, 200), rng.uniform(100, 250), rng.uniform(-600, -300)];
  const affine = affineFromRows([
    [0, 0, -spacing[2], -origin[0] + (shape[2] * spacing[2]) / 2],
    [0, -spacing[1], 0, origin[1]],
    [spacing[0], 0, 0, origin[2]],
  ]);
  const geometry = { shape, spacing, affine };
  return {
    ct: { data: ctData, ...geometry },
    lesion: { data: mask, ...geometry },
    lesionKinds: { data: kinds, ...geometry },
    lesions,
    tissues: canvas.labels,
    ...(ctWithoutLesions ? { ctWithoutLesions: { data: ctWithoutLesions, ...geometry } } : {}),
  };
}

/** A phantom made with `withoutLesions`, as a case of its own: its scan without lesions, empty lesion masks. */
export function phantomWithoutLesions(phantom: Phantom): Phantom {
  if (!phantom.ctWithoutLesions) throw new Error('phantomWithoutLesions: the phantom was generated without withoutLesions');
  const empty = (v: Phantom['lesion']) => ({ ...v, data: new Uint8Array(v.data.length) });
  return { ct: phantom.ctWithoutLesions, lesion: empty(phantom.lesion), lesionKinds: empty(phantom.lesionKinds), lesions: [], tissues: phantom.tissues };
}

function toHounsfieldInt16(hu: Float32Array): Int16Array {
  const out = new Int16Array(hu.length);
  for (let i = 0; i < hu.length; i++) out[i] = Math.max(-1024, Math.min(3071, Math.round(hu[i]!)));
  return out;
}

/** Low-frequency intensity variation inside tissues, so organs are not flat. */
function addTexture(canvas: Canvas, rng: Rng): void {
  const coarse: Shape3 = canvas.shape.map((s) => Math.max(2, Math.ceil(s / 6))) as Shape3;
  const field = new Float32Array(voxelCount(coarse));
  for (let i = 0; i < field.length; i++) field[i] = rng.normal();
  const smooth = resampleTrilinear(field, coarse, canvas.shape, sameExtentMap(coarse, canvas.shape));
  for (let i = 0; i < smooth.length; i++) {
    const label = canvas.labels[i]!;
    const amplitude = label === Tissue.air ? 0 : label === Tissue.lung ? 25 : label === Tissue.cortical ? 40 : 6;
    canvas.hu[i]! += amplitude * smooth[i]!;
  }
}

/** Partial-volume blur of the true HU, then noise correlated over about a voxel, like reconstructed CT. */
function finishLikeCt(hu: Float32Array, shape: Shape3, rng: Rng): Float32Array {
  const blurred = gaussianBlur3d(hu, shape, rng.uniform(0.5, 0.8));
  const noiseSigma = rng.uniform(10, 22);
  const white = new Float32Array(blurred.length);
  for (let i = 0; i < white.length; i++) white[i] = rng.normal();
  const noiseBlur = 0.6;
  const correlated = gaussianBlur3d(white, shape, noiseBlur);
  // A Gaussian blur of sigma s shrinks unit white noise's deviation by about 1 / (2 sqrt(pi) s)^(3/2).
  const gain = noiseSigma * Math.pow(2 * Math.sqrt(Math.PI) * noiseBlur, 1.5);
  for (let i = 0; i < blurred.length; i++) blurred[i]! += gain * correlated[i]!;
  return blurred;
}
