// What a CT scan can physically be. A header whose voxel size or extent lies outside these ranges is
// almost always wrong (a unit mix-up, a corrupt pixdim), and a model would score it silently into a
// meaningless map, or resample it onto a grid too large for memory; so commands refuse it, with the
// numbers, unless the user says it is intended (--force-geometry). The same holds for values without
// any air: every CT in Hounsfield units has some, and a scan stored without its rescale (raw scanner
// values of 0 to 4095, air at 0) otherwise preprocesses into a body of the whole box and a map of nothing.
import { DataError } from '../errors';
import { formatShape, valueRange, type Shape3, type Vec3 } from './volume';

/** Voxel sizes a CT scanner produces along any axis, in mm (micro-CT and thick slabs excluded). */
export const CT_VOXEL_MM: readonly [number, number] = [0.1, 20];
/** Physical extent of a CT scan along any axis, in mm: from a 2 cm slab to a 2.5 m whole body. */
export const CT_EXTENT_MM: readonly [number, number] = [20, 2500];

const mm = (v: readonly number[]) => v.map((x) => +x.toPrecision(4)).join(' x ');

/** Why a scan's voxel size or extent cannot be a CT's, or null when both are plausible. */
export function ctGeometryProblem(volume: { shape: Shape3; spacing: Vec3 }): string | null {
  const [lo, hi] = CT_VOXEL_MM;
  if (volume.spacing.some((s) => !(s >= lo && s <= hi))) {
    return `voxel size ${mm(volume.spacing)} mm (D x H x W) is outside what a CT can be (${lo} to ${hi} mm per axis)`;
  }
  const extent = volume.shape.map((n, a) => n * volume.spacing[a]!);
  const [min, max] = CT_EXTENT_MM;
  if (extent.some((e) => !(e >= min && e <= max))) {
    return `physical extent ${mm(extent)} mm (${formatShape(volume.shape)} voxels of ${mm(volume.spacing)} mm) is outside what a CT can be (${min / 10} cm to ${max / 1000} m per side)`;
  }
  return null;
}

/**
 * The lowest value a CT's darkest voxel may have, in HU. Air is about -1000 HU and lies around the body
 * or inside it (lungs, bowel, sinuses); noise and partial volume keep it far below this.
 */
export const CT_AIR_HU_MAX = -500;

/** Why a scan's values cannot be a CT's in Hounsfield units (no voxel at or below CT_AIR_HU_MAX), or null. */
export function ctValueProblem(data: ArrayLike<number>): string | null {
  const [lowest] = valueRange(data);
  if (lowest === Infinity || lowest <= CT_AIR_HU_MAX) return null; // no finite value, or some air
  return (
    `no voxel is air: the lowest value is ${+lowest.toPrecision(6)}, where a CT in Hounsfield units has air at about -1000 ` +
    `(${CT_AIR_HU_MAX} or less); values stored without their rescale slope and intercept look like this`
  );
}

/** Why a scan cannot be a CT (its geometry, then its values when it has them), or null. */
export function plausibleCtProblem(volume: { shape: Shape3; spacing: Vec3; data?: ArrayLike<number> }): string | null {
  return ctGeometryProblem(volume) ?? (volume.data ? ctValueProblem(volume.data) : null);
}

/** Refuses, naming the file, a scan whose geometry or values cannot be a CT's, unless `force` (--force-geometry). */
export function requirePlausibleCt(volume: { shape: Shape3; spacing: Vec3; data?: ArrayLike<number> }, source: string, force: boolean): void {
  const problem = force ? null : plausibleCtProblem(volume);
  if (problem) throw new DataError(source, `${problem}; --force-geometry takes it anyway`);
}

/**
 * Why a preprocessed scan is too small to score, or null: when it fits inside a single window along
 * every axis, the window holds more padding than scan and there is nothing to slide over.
 */
export function windowFitProblem(shape: Shape3, window: readonly number[], spacing: readonly number[]): string | null {
  if (!shape.every((n, a) => n < window[a]!)) return null;
  return `after preprocessing (body crop, ${mm(spacing)} mm voxels) the scan is ${formatShape(shape)} voxels, smaller than one ${window.join('x')} window of the model`;
}
