// The Screener paper's preprocessing of a CT in HU: crop to the body, resample to a target spacing,
// clip to [-1000, 300] HU and rescale to [0, 1], then 3-D CLAHE. The geometry of every step is kept so
// that a map computed on the preprocessed grid can be put back onto the original grid and affine.
// On a large scan the only full-resolution arrays made are the body mask (one byte a voxel): the crop
// is read in place by the resampling (a box in the scan), never copied out.
import { type Affine, affineSpacing, multiplyAffines, scaleShiftAffine, type Shape3, type Vec3, type Volume, type VoxelArray, voxelCount } from '../geometry/volume';
import { BODY_THRESHOLD_HU, bodyMask, cropVolume, type BodyMaskProgress, type Box } from './body';
import { clahe3d, CLAHE_CLIP_LIMIT, type ClaheOptions } from './clahe';
import { checkSameGrid } from '../geometry/mask-checks';
import { resampleNearest, resampleTrilinear, sameExtentMap, shapeForSpacing, type GridMap } from './resample';
import { HU_WINDOW, windowToUnit } from './window';

export interface PreprocessOptions {
  /** Voxel size of the preprocessed grid along (D, H, W) in mm (met to within half a voxel over the extent). */
  targetSpacing: Vec3;
  huWindow: [number, number];
  bodyThresholdHu: number;
  /** CLAHE settings, or false to skip it. */
  clahe: ClaheOptions | false;
}

/**
 * What a caller asks of preprocessing: the voxel size always (it belongs to the model that will read
 * the scan, and only its config says it), the rest as the paper does unless given.
 */
export type PreprocessRequest = Partial<PreprocessOptions> & Pick<PreprocessOptions, 'targetSpacing'>;

/** The paper's preprocessing, less the voxel size. */
export const DEFAULT_PREPROCESS: Omit<PreprocessOptions, 'targetSpacing'> = {
  huWindow: HU_WINDOW,
  bodyThresholdHu: BODY_THRESHOLD_HU,
  clahe: { clipLimit: CLAHE_CLIP_LIMIT },
};

/** Where the preprocessed grid lies in the original one. */
export interface PreprocessGeometry {
  originalShape: Shape3;
  originalAffine: Affine;
  /** The body box, in original voxels. */
  crop: Box;
  /** Preprocessed grid shape. */
  shape: Shape3;
  /** Preprocessed voxel -> voxel of the cropped original (index = scale * index' + offset). */
  map: GridMap;
}

export interface PreprocessedScan {
  /** [0, 1] intensities on the preprocessed grid; its affine maps that grid to world mm. */
  image: Volume<Float32Array>;
  /** Body mask on the preprocessed grid. */
  body: Volume<Uint8Array>;
  /** Body mask on the original grid (evaluation on the original scan uses it). */
  originalBody: Volume<Uint8Array>;
  geometry: PreprocessGeometry;
}

export function resolvePreprocessOptions(options: PreprocessRequest): PreprocessOptions {
  return { ...DEFAULT_PREPROCESS, ...options };
}

/** Called as preprocessing goes: the step, and work done and total of that step. */
export type PreprocessProgress = BodyMaskProgress;

export function preprocessCt(
  ct: Volume<VoxelArray>,
  source: string,
  options: PreprocessRequest,
  onProgress?: PreprocessProgress,
): PreprocessedScan {
  const o = resolvePreprocessOptions(options);
  const body = bodyMask(ct, source, o.bodyThresholdHu, onProgress);
  const box = body.box;
  const shape = shapeForSpacing(box.shape, ct.spacing, o.targetSpacing);
  const map = sameExtentMap(box.shape, shape);
  // The affine of the crop (its first voxel at box.start), then of the resampled grid.
  const croppedAffine = multiplyAffines(ct.affine, scaleShiftAffine([1, 1, 1], box.start));
  const affine = multiplyAffines(croppedAffine, scaleShiftAffine(map.scale, map.offset));
  const spacing = ct.spacing.map((s, a) => s * map.scale[a]!) as Vec3;

  onProgress?.('resampling', 0, 1);
  const hu = resampleTrilinear(ct.data, ct.shape, shape, map, { box });
  onProgress?.('HU window and CLAHE', 0, 1);
  let image = windowToUnit(hu, o.huWindow);
  if (o.clahe) image = clahe3d(image, shape, o.clahe);
  onProgress?.('HU window and CLAHE', 1, 1);

  return {
    image: { data: image, shape, spacing, affine },
    body: { data: resampleNearest(body.mask, ct.shape, shape, map, { box }), shape, spacing, affine },
    originalBody: { data: body.mask, shape: [...ct.shape] as Shape3, spacing: [...ct.spacing] as Vec3, affine: ct.affine },
    geometry: { originalShape: [...ct.shape] as Shape3, originalAffine: ct.affine, crop: body.box, shape, map },
  };
}

/** Puts a mask given on the original grid (a lesion mask) onto the preprocessed grid (nearest). */
export function maskToPreprocessed(mask: Volume<Uint8Array>, source: string, geometry: PreprocessGeometry): Uint8Array {
  checkSameGrid(mask, source, { data: new Uint8Array(0), shape: geometry.originalShape, spacing: [1, 1, 1], affine: geometry.originalAffine }, 'its CT');
  const cropped = cropVolume(mask, geometry.crop);
  return resampleNearest(cropped.data, cropped.shape, geometry.shape, geometry.map);
}

export interface ToOriginalOptions {
  /** Value given to original voxels outside the body box; default 0. */
  fill?: number;
  mode?: 'linear' | 'nearest';
}

/**
 * The inverse mapping: a map computed on the preprocessed grid (an anomaly score, a segmentation),
 * resampled onto the original scan's grid and affine, ready to be written next to the input.
 */
export function toOriginalGrid(map: ArrayLike<number>, geometry: PreprocessGeometry, options: ToOriginalOptions = {}): Volume<Float32Array> {
  const { originalShape, crop } = geometry;
  const inverse: GridMap = {
    scale: geometry.map.scale.map((s) => 1 / s) as Vec3,
    offset: geometry.map.offset.map((o, a) => -o / geometry.map.scale[a]!) as Vec3,
  };
  const inside =
    options.mode === 'nearest'
      ? resampleNearest(Float32Array.from(map), geometry.shape, crop.shape, inverse)
      : resampleTrilinear(map, geometry.shape, crop.shape, inverse);
  const out = new Float32Array(voxelCount(originalShape)).fill(options.fill ?? 0);
  const [, H, W] = originalShape;
  for (let d = 0; d < crop.shape[0]; d++) {
    for (let h = 0; h < crop.shape[1]; h++) {
      const from = (d * crop.shape[1] + h) * crop.shape[2];
      out.set(inside.subarray(from, from + crop.shape[2]), ((crop.start[0] + d) * H + crop.start[1] + h) * W + crop.start[2]);
    }
  }
  const affine = geometry.originalAffine;
  return { data: out, shape: [...originalShape] as Shape3, spacing: affineSpacing(affine), affine };
}
