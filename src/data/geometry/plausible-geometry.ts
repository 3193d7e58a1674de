// What a CT scan can physically be. A header whose voxel size or extent lies outside these ranges is
// almost always wrong (a unit mix-up, a corrupt pixdim), and a model would score it silently into a
// meaningless map, or resample it onto a grid too large for memory; so commands refuse it, with the
// numbers, unless the user says it is intended (--force-geometry).
import { DataError } from '../errors';
import { formatShape, type Shape3, type Vec3 } from './volume';

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

/** Refuses, naming the file, a scan whose geometry cannot be a CT's, unless `force` (--force-geometry). */
export function requireCtGeometry(volume: { shape: Shape3; spacing: Vec3 }, source: string, force: boolean): void {
  const problem = force ? null : ctGeometryProblem(volume);
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
