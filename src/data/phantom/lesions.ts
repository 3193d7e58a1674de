// Lesion kinds of the phantoms. Each is placed inside the organ it belongs to, with a lobulated
// ellipsoidal shape, and changes the HU of the voxels it covers; its mask is the set of voxels it covers.
// One kind is held out: the demo trains without it and is then asked to find it.
import type { Rng } from '../rng';
import { Canvas, Tissue } from './canvas';

export type LesionKind =
  | 'liver_hypodense'
  | 'liver_hyperdense'
  | 'lung_nodule_solid'
  | 'lung_nodule_ground_glass'
  | 'kidney_cyst'
  | 'bone_lesion'
  | 'splenic_infarct';

interface KindSpec {
  /** Tissues the lesion may occupy. */
  organs: number[];
  /** Range of the mean radius in mm. */
  radius: [number, number];
  /** HU inside the lesion, given the tissue HU it replaces. */
  hu: (rng: Rng) => (tissueHu: number, rho: number) => number;
  heldOut: boolean;
}

const KINDS: Record<LesionKind, KindSpec> = {
  liver_hypodense: { organs: [Tissue.liver], radius: [6, 16], heldOut: false, hu: (rng) => { const v = rng.uniform(15, 50); return () => v; } },
  liver_hyperdense: { organs: [Tissue.liver], radius: [6, 14], heldOut: false, hu: (rng) => { const v = rng.uniform(170, 220); return () => v; } },
  lung_nodule_solid: { organs: [Tissue.lung, Tissue.lungVessel], radius: [3.5, 10], heldOut: false, hu: (rng) => { const v = rng.uniform(20, 60); return () => v; } },
  lung_nodule_ground_glass: {
    organs: [Tissue.lung, Tissue.lungVessel],
    radius: [6, 14],
    heldOut: false,
    // Hazy: denser than lung, fading towards the edge, vessels still visible through it.
    hu: (rng) => { const v = rng.uniform(-650, -450); return (t, rho) => Math.max(t, v - 150 * rho * rho); },
  },
  kidney_cyst: { organs: [Tissue.kidney], radius: [6, 14], heldOut: false, hu: (rng) => { const v = rng.uniform(-5, 15); return () => v; } },
  bone_lesion: {
    organs: [Tissue.marrow, Tissue.cortical],
    radius: [5, 9],
    heldOut: false,
    // Lytic (destroys bone) or sclerotic (dense), both seen in metastases.
    hu: (rng) => { const v = rng.bool() ? rng.uniform(20, 80) : rng.uniform(900, 1200); return () => v; },
  },
  splenic_infarct: { organs: [Tissue.spleen], radius: [8, 14], heldOut: true, hu: (rng) => { const v = rng.uniform(30, 55); return () => v; } },
};

/** Every lesion kind, in a fixed order (a kind's label in lesion_kinds.nii.gz is its index + 1). */
export const LESION_KINDS: readonly LesionKind[] = Object.keys(KINDS) as LesionKind[];
/** The kind kept out of training, to measure detection of a pathology never seen. */
export const HELD_OUT_LESION_KINDS: readonly LesionKind[] = LESION_KINDS.filter((k) => KINDS[k].heldOut);
/** The kinds a model may be trained on. */
export const TRAINING_LESION_KINDS: readonly LesionKind[] = LESION_KINDS.filter((k) => !KINDS[k].heldOut);

export function lesionKindLabel(kind: LesionKind): number {
  return LESION_KINDS.indexOf(kind) + 1;
}

export interface PlacedLesion {
  kind: LesionKind;
  heldOut: boolean;
  /** Centre in voxels (d, h, w). */
  centre: [number, number, number];
  radiusMm: number;
  voxels: number;
}

/** A lesion to place: its kind and, optionally, its mean diameter in mm (else drawn from the kind's range). */
export interface LesionRequest {
  kind: LesionKind;
  diameterMm?: number;
}

/**
 * Places one lesion of a kind; writes its voxels into `mask` (1) and `kinds` (the kind's label).
 * Returns undefined when the organ is missing from this phantom. A requested diameter overrides the
 * kind's radius range (the lesion is still clipped to its organ).
 */
export function placeLesion(canvas: Canvas, rng: Rng, request: LesionKind | LesionRequest, mask: Uint8Array, kinds: Uint8Array): PlacedLesion | undefined {
  const { kind, diameterMm } = typeof request === 'string' ? { kind: request, diameterMm: undefined } : request;
  const spec = KINDS[kind];
  const radiusRange: [number, number] = diameterMm === undefined ? spec.radius : [diameterMm / 2, diameterMm / 2];
  const organ = new Uint8Array(256);
  for (const o of spec.organs) organ[o] = 1;
  const candidates: number[] = [];
  for (let i = 0; i < canvas.labels.length; i++) if (organ[canvas.labels[i]!] && !mask[i]) candidates.push(i);
  if (candidates.length === 0) return undefined;
  const [, H, W] = canvas.shape;
  const [sz, sy, sx] = canvas.spacing;

  // Try a few centres; keep the one whose lesion lies most inside the organ.
  let best: { centre: number; radius: number; radii: [number, number, number]; angle: number; inside: number } | undefined;
  for (let attempt = 0; attempt < 24; attempt++) {
    const centre = candidates[Math.floor(rng.next() * candidates.length)]!;
    const shrink = 1 - attempt / 40;
    const radius = rng.uniform(radiusRange[0], radiusRange[1]) * shrink;
    const radii: [number, number, number] = [radius * rng.uniform(0.8, 1.2), radius * rng.uniform(0.8, 1.2), radius * rng.uniform(0.8, 1.2)];
    const angle = rng.uniform(0, Math.PI);
    let total = 0;
    let inside = 0;
    canvas.forEachInEllipsoid(centreMm(centre, H, W, sz, sy, sx), radii, angle, (i) => {
      total++;
      if (organ[canvas.labels[i]!]) inside++;
    });
    const fraction = total ? inside / total : 0;
    if (!best || fraction > best.inside) best = { centre, radius, radii, angle, inside: fraction };
    if (fraction > 0.85) break;
  }
  const chosen = best!;
  const centre = centreMm(chosen.centre, H, W, sz, sy, sx);
  const lobes = [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)];
  const lobeDepth = rng.uniform(0.05, 0.18);
  const value = spec.hu(rng);
  const label = lesionKindLabel(kind);
  let voxels = 0;
  canvas.forEachInEllipsoid(centre, chosen.radii, chosen.angle, (i, rho, z, y, x) => {
    if (!organ[canvas.labels[i]!]) return;
    // Lobulated outline: the surface radius wobbles with direction.
    const theta = Math.atan2(y - centre[1], x - centre[2]);
    const phi = Math.atan2(z - centre[0], Math.hypot(y - centre[1], x - centre[2]));
    const surface = 1 - lobeDepth * (0.5 + 0.5 * Math.sin(3 * theta + lobes[0]!) * Math.cos(2 * phi + lobes[1]!));
    if (rho > surface) return;
    canvas.hu[i] = value(canvas.hu[i]!, rho / surface);
    if (!mask[i]) voxels++;
    mask[i] = 1;
    kinds[i] = label;
  });
  if (voxels === 0) {
    // The wobble can miss a tiny organ entirely; the centre voxel always belongs to it.
    canvas.hu[chosen.centre] = value(canvas.hu[chosen.centre]!, 0);
    mask[chosen.centre] = 1;
    kinds[chosen.centre] = label;
    voxels = 1;
  }
  const w = chosen.centre % W;
  const h = Math.floor(chosen.centre / W) % H;
  const d = Math.floor(chosen.centre / (W * H));
  return { kind, heldOut: spec.heldOut, centre: [d, h, w], radiusMm: +chosen.radius.toFixed(2), voxels };
}

function centreMm(index: number, H: number, W: number, sz: number, sy: number, sx: number): [number, number, number] {
  const w = index % W;
  const h = Math.floor(index / W) % H;
  const d = Math.floor(index / (W * H));
  return [d * sz, h * sy, w * sx];
}
