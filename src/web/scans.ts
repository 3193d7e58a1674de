// Scans in the page: a NIfTI file the user opens (its bytes stay in memory) or a phantom generated
// here. Each keeps NIfTI bytes for the viewer and the decoded volume for Screener.
import { DataError, decodeNifti, encodeNifti, formatShape, generatePhantom, plausibleCtProblem, type Volume, type VoxelArray } from '../screener';

export interface OpenScan {
  /** The file's name, or "phantom-64-seed1.nii" for a generated one. */
  name: string;
  ct: Volume<VoxelArray>;
  /** The scan as NIfTI, for the viewer. */
  bytes: Uint8Array;
}

export const NIFTI_NAME = /\.nii(\.gz)?$/i;

/** Decodes a file the user gave; a file that is not a NIfTI-1 volume throws a DataError naming it. */
export function scanFromFile(name: string, bytes: Uint8Array): OpenScan {
  if (!NIFTI_NAME.test(name)) throw new DataError(name, 'not a scan: expected a NIfTI file ending in .nii or .nii.gz');
  return { name, ct: decodeNifti(bytes, name), bytes };
}

/** A synthetic CT with lesions (the generator `screener phantom` uses), kept in memory. */
export function phantomScan(seed: number, size: number): OpenScan {
  const { ct } = generatePhantom({ seed, size });
  return { name: `phantom-${size}-seed${seed}.nii`, ct, bytes: encodeNifti(ct, { gzip: false }) };
}

/**
 * Why an opened scan cannot be a CT (its voxel size, extent or values), or null. The page opens it anyway,
 * so that the viewer shows what is wrong, and says this where `screener predict` would refuse it.
 */
export function scanWarning(scan: OpenScan): string | null {
  const problem = plausibleCtProblem(scan.ct);
  return problem && `${scan.name}: ${problem}; Screener's map of it would mean nothing`;
}

export function describeScan(scan: OpenScan): string {
  const spacing = scan.ct.spacing.map((s) => s.toFixed(2)).join(' x ');
  return `${scan.name}: ${formatShape(scan.ct.shape)} voxels (D x H x W), ${spacing} mm`;
}

/** "ct.nii.gz" -> "ct-anomaly.nii.gz": the name the map downloads under. */
export function anomalyFileName(scanName: string): string {
  return `${scanName.replace(NIFTI_NAME, '')}-anomaly.nii.gz`;
}
