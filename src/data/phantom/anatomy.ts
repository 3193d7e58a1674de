// A torso from the upper pelvis to the lung apices, drawn in millimetres on a Canvas: body wall
// (skin, fat, muscle), thorax (lungs with branching vessels, heart, aorta, mediastinal fat, ribs,
// sternum), abdomen (liver, spleen, kidneys, bowel with gas), and the spine. Every size and position
// is drawn from the seed, so no two phantoms are the same body.
import type { Rng } from '../rng';
import { Canvas, Tissue, type Mm } from './canvas';

/** Mean HU of each tissue (portal-venous contrast phase, as most screening CT is). */
export const TISSUE_HU: Record<number, number> = {
  [Tissue.air]: -1000,
  [Tissue.skin]: 30,
  [Tissue.fat]: -100,
  [Tissue.muscle]: 55,
  [Tissue.lung]: -860,
  [Tissue.lungVessel]: 150,
  [Tissue.heart]: 140,
  [Tissue.liver]: 110,
  [Tissue.kidney]: 170,
  [Tissue.spleen]: 120,
  [Tissue.cortical]: 800,
  [Tissue.marrow]: 230,
  [Tissue.viscera]: 30,
  [Tissue.aorta]: 170,
  [Tissue.mediastinum]: -80,
};

/** Where the main structures ended up; lesion placement and tests use it. */
export interface Anatomy {
  centre: { x: number; y: number };
  /** Height of the diaphragm domes' base (mm along z). */
  diaphragmZ: number;
  spine: { x: number; y: number; radius: number };
}

interface BodyShape {
  cx: number;
  cy: number;
  ax: number;
  ay: number;
  fat: number;
  muscle: number;
}

/** Superellipse "radius": < 1 inside, the shape between an ellipse and a rounded box like a torso. */
function bodyNorm(dx: number, dy: number, ax: number, ay: number): number {
  const p = 2.4;
  return Math.pow(Math.abs(dx / ax), p) + Math.pow(Math.abs(dy / ay), p);
}

export function drawAnatomy(canvas: Canvas, rng: Rng): Anatomy {
  const [Z, Y, X] = canvas.extent;
  const body: BodyShape = {
    cx: X / 2 + rng.uniform(-10, 10),
    cy: Y / 2 + rng.uniform(-8, 8),
    ax: Math.min(X / 2 - 8, rng.uniform(140, 175)),
    ay: Math.min(Y / 2 - 8, rng.uniform(95, 120)),
    fat: rng.uniform(8, 24),
    muscle: rng.uniform(8, 14),
  };
  const diaphragmZ = Z * rng.uniform(0.4, 0.5);
  const domeHeight = rng.uniform(18, 30);
  const cavity = { ax: body.ax - body.fat - body.muscle, ay: body.ay - body.fat - body.muscle };
  // The domes: the right one (liver side, smaller x) rides higher.
  const diaphragm = (y: number, x: number) => {
    const side = x < body.cx ? -1 : 1;
    const u = (x - (body.cx + side * cavity.ax * 0.45)) / (cavity.ax * 0.6);
    const v = (y - body.cy) / (cavity.ay * 0.9);
    const dome = Math.max(0, 1 - u * u - v * v);
    return diaphragmZ + domeHeight * dome + (side < 0 ? 8 : 0);
  };

  drawBodyWall(canvas, body, cavity, diaphragm);
  const spine = drawSpine(canvas, rng, body, cavity);
  drawThorax(canvas, rng, body, cavity, diaphragm, diaphragmZ, spine);
  drawAbdomen(canvas, rng, body, cavity, diaphragm, diaphragmZ, spine);
  drawRibs(canvas, rng, body, cavity, diaphragmZ);
  return { centre: { x: body.cx, y: body.cy }, diaphragmZ, spine };
}

function drawBodyWall(canvas: Canvas, b: BodyShape, cavity: { ax: number; ay: number }, diaphragm: (y: number, x: number) => number): void {
  const [Z, Y, X] = canvas.extent;
  canvas.forEachInBox([0, 0, 0], [Z, Y, X], (i, z, y, x) => {
    const dx = x - b.cx;
    const dy = y - b.cy;
    // The body narrows a little towards the shoulders and the pelvis.
    const taper = 1 - 0.06 * Math.pow((z - Z / 2) / (Z / 2), 2);
    const ax = b.ax * taper;
    const ay = b.ay * taper;
    if (bodyNorm(dx, dy, ax, ay) > 1) return;
    if (bodyNorm(dx, dy, ax - 2, ay - 2) > 1) return canvas.set(i, Tissue.skin, TISSUE_HU[Tissue.skin]!);
    if (bodyNorm(dx, dy, ax - b.fat, ay - b.fat) > 1) return canvas.set(i, Tissue.fat, TISSUE_HU[Tissue.fat]!);
    const cax = cavity.ax * taper;
    const cay = cavity.ay * taper;
    // Paraspinal muscles: the cavity stops short of the back in the middle.
    const backMuscle = dy > cay * 0.55 && Math.abs(dx) < cax * 0.35;
    if (bodyNorm(dx, dy, cax, cay) > 1 || backMuscle) return canvas.set(i, Tissue.muscle, TISSUE_HU[Tissue.muscle]!);
    if (z > diaphragm(y, x)) canvas.set(i, Tissue.mediastinum, TISSUE_HU[Tissue.mediastinum]!);
    else canvas.set(i, Tissue.viscera, TISSUE_HU[Tissue.viscera]!);
  });
}

function drawSpine(canvas: Canvas, rng: Rng, b: BodyShape, cavity: { ax: number; ay: number }) {
  const [Z] = canvas.extent;
  const spine = { x: b.cx + rng.uniform(-4, 4), y: b.cy + cavity.ay * 0.62, radius: rng.uniform(15, 20) };
  const period = rng.uniform(25, 32);
  const phase = rng.uniform(0, period);
  const disc = 6;
  canvas.forEachInBox([0, spine.y - spine.radius - 2, spine.x - 40], [Z, spine.y + spine.radius + 45, spine.x + 40], (i, z, y, x) => {
    const inDisc = (((z + phase) % period) + period) % period < disc;
    const dx = x - spine.x;
    const dy = y - spine.y;
    const r = Math.hypot(dx, dy * 1.15);
    if (r <= spine.radius) {
      if (inDisc) return canvas.set(i, Tissue.viscera, 90);
      return r > spine.radius - 2.5 ? canvas.set(i, Tissue.cortical, TISSUE_HU[Tissue.cortical]!) : canvas.set(i, Tissue.marrow, TISSUE_HU[Tissue.marrow]!);
    }
    if (inDisc) return;
    // Spinal canal and the ring of the posterior arch around it, then the spinous process.
    const canalY = spine.y + spine.radius + 10;
    const rc = Math.hypot(dx, y - canalY);
    if (rc <= 8) return canvas.set(i, Tissue.viscera, 15);
    if (rc <= 12 && y > spine.y) return canvas.set(i, Tissue.cortical, 600);
    if (y > canalY + 10 && y < canalY + 32 && Math.abs(dx) < 4 + (canalY + 32 - y) * 0.1) return canvas.set(i, Tissue.cortical, 500);
  });
  return spine;
}

function drawThorax(
  canvas: Canvas,
  rng: Rng,
  b: BodyShape,
  cavity: { ax: number; ay: number },
  diaphragm: (y: number, x: number) => number,
  diaphragmZ: number,
  spine: { x: number; y: number; radius: number },
): void {
  const [Z] = canvas.extent;
  const top = Z - rng.uniform(0, 15);
  const lungHeight = top - diaphragmZ;
  for (const side of [-1, 1]) {
    const centre: Mm = [diaphragmZ + lungHeight * 0.5, b.cy + cavity.ay * 0.05, b.cx + side * cavity.ax * rng.uniform(0.46, 0.52)];
    const radii: [number, number, number] = [lungHeight * 0.62, cavity.ay * rng.uniform(0.78, 0.86), cavity.ax * rng.uniform(0.4, 0.46)];
    canvas.forEachInEllipsoid(centre, radii, 0, (i, _rho, z, y, x) => {
      const label = canvas.labels[i];
      if (label !== Tissue.mediastinum || z <= diaphragm(y, x) + 3) return;
      // Lungs taper towards the apex.
      const apex = (z - diaphragmZ) / lungHeight;
      if (apex > 0.75 && Math.abs(x - centre[2]) > radii[2] * (1 - (apex - 0.75) * 2.5)) return;
      canvas.set(i, Tissue.lung, TISSUE_HU[Tissue.lung]!);
    });
  }
  // Heart: anterior, left of the midline, resting on the diaphragm.
  const heartCentre: Mm = [diaphragmZ + rng.uniform(40, 55), b.cy - cavity.ay * 0.22, b.cx + cavity.ax * rng.uniform(0.1, 0.2)];
  canvas.forEachInEllipsoid(heartCentre, [rng.uniform(45, 55), rng.uniform(42, 50), rng.uniform(50, 60)], rng.uniform(0.3, 0.6), (i, rho, z, y, x) => {
    if (z <= diaphragm(y, x)) return;
    const label = canvas.labels[i];
    if (label === Tissue.lung || label === Tissue.mediastinum) canvas.set(i, Tissue.heart, rho > 0.85 ? 60 : TISSUE_HU[Tissue.heart]!);
  });
  // Descending aorta: left-anterior of the spine, the whole height of the chest and upper abdomen.
  const aorta = { x: spine.x + spine.radius * 0.9, y: spine.y - spine.radius - 6, r: rng.uniform(9, 13) };
  canvas.forEachInCapsule([0, aorta.y, aorta.x], [Math.min(Z, diaphragmZ + lungHeight * 0.7), aorta.y, aorta.x], aorta.r, (i) => {
    const label = canvas.labels[i];
    if (label !== Tissue.cortical && label !== Tissue.marrow) canvas.set(i, Tissue.aorta, TISSUE_HU[Tissue.aorta]!);
  });
  // Pulmonary vessels: a branching tree from each hilum, drawn only inside lung.
  for (const side of [-1, 1]) {
    const hilum: Mm = [diaphragmZ + lungHeight * 0.45, b.cy + rng.uniform(-5, 5), b.cx + side * cavity.ax * 0.22];
    growVessels(canvas, rng, hilum, [0, 0, side], 6.5, 0);
  }
}

function growVessels(canvas: Canvas, rng: Rng, from: Mm, direction: number[], radius: number, depth: number): void {
  if (depth > 4 || radius < 1) return;
  const branches = depth === 0 ? 4 : 2;
  for (let k = 0; k < branches; k++) {
    const dir = direction.map((v) => v + rng.normal() * 0.55);
    const norm = Math.hypot(dir[0]!, dir[1]!, dir[2]!) || 1;
    const length = rng.uniform(22, 40);
    const to: Mm = [from[0] + (dir[0]! / norm) * length, from[1] + (dir[1]! / norm) * length, from[2] + (dir[2]! / norm) * length];
    canvas.forEachInCapsule(from, to, radius, (i) => {
      if (canvas.labels[i] === Tissue.lung) canvas.set(i, Tissue.lungVessel, TISSUE_HU[Tissue.lungVessel]!);
    });
    growVessels(canvas, rng, to, dir.map((v) => v / norm), radius * 0.72, depth + 1);
  }
}

function drawAbdomen(
  canvas: Canvas,
  rng: Rng,
  b: BodyShape,
  cavity: { ax: number; ay: number },
  diaphragm: (y: number, x: number) => number,
  diaphragmZ: number,
  spine: { x: number; y: number; radius: number },
): void {
  const inAbdomen = (i: number, z: number, y: number, x: number) => canvas.labels[i] === Tissue.viscera && z <= diaphragm(y, x);
  // Liver: the right upper quadrant, its dome under the right diaphragm.
  const liverCentre: Mm = [diaphragmZ - rng.uniform(25, 45), b.cy - cavity.ay * 0.05, b.cx - cavity.ax * rng.uniform(0.35, 0.45)];
  canvas.forEachInEllipsoid(liverCentre, [rng.uniform(75, 95), cavity.ay * rng.uniform(0.7, 0.8), cavity.ax * rng.uniform(0.5, 0.6)], rng.uniform(-0.3, 0.1), (i, _rho, z, y, x) => {
    if (inAbdomen(i, z, y, x)) canvas.set(i, Tissue.liver, TISSUE_HU[Tissue.liver]!);
  });
  // Spleen: left, posterior, under the left dome.
  const spleenCentre: Mm = [diaphragmZ - rng.uniform(25, 40), b.cy + cavity.ay * 0.35, b.cx + cavity.ax * rng.uniform(0.62, 0.72)];
  canvas.forEachInEllipsoid(spleenCentre, [rng.uniform(45, 55), rng.uniform(38, 46), rng.uniform(20, 26)], rng.uniform(-0.7, -0.4), (i, _rho, z, y, x) => {
    if (inAbdomen(i, z, y, x)) canvas.set(i, Tissue.spleen, TISSUE_HU[Tissue.spleen]!);
  });
  // Kidneys: either side of the spine, the right one lower; the renal sinus is fat.
  for (const side of [-1, 1]) {
    const centre: Mm = [diaphragmZ - rng.uniform(85, 105) - (side < 0 ? 12 : 0), spine.y - 2, spine.x + side * rng.uniform(55, 70)];
    const angle = side * rng.uniform(0.3, 0.5);
    canvas.forEachInEllipsoid(centre, [rng.uniform(45, 55), rng.uniform(24, 28), rng.uniform(26, 32)], angle, (i, rho, z, y, x) => {
      if (!inAbdomen(i, z, y, x) && canvas.labels[i] !== Tissue.muscle) return;
      const medial = (x - centre[2]) * -side > 4;
      if (rho < 0.45 && medial) canvas.set(i, Tissue.fat, TISSUE_HU[Tissue.fat]!);
      else canvas.set(i, Tissue.kidney, TISSUE_HU[Tissue.kidney]!);
    });
  }
  // Bowel: loops of wall-density tissue in fat, with a few gas pockets.
  for (let k = 0; k < 14; k++) {
    const centre: Mm = [rng.uniform(0, diaphragmZ - 20), b.cy + rng.uniform(-0.7, 0.3) * cavity.ay, b.cx + rng.uniform(-0.6, 0.6) * cavity.ax];
    const r = rng.uniform(10, 20);
    canvas.forEachInEllipsoid(centre, [r * 1.5, r, r], rng.uniform(0, Math.PI), (i, rho, z, y, x) => {
      if (!inAbdomen(i, z, y, x)) return;
      canvas.hu[i] = rho > 0.8 ? 45 : k % 3 === 0 && rho < 0.55 ? -950 : 20;
    });
  }
  // Mesenteric fat between the loops.
  canvas.forEachInBox([0, 0, 0], canvas.extent, (i, z, y, x) => {
    if (inAbdomen(i, z, y, x) && canvas.hu[i] === TISSUE_HU[Tissue.viscera]) canvas.hu[i] = -90;
  });
}

function drawRibs(
  canvas: Canvas,
  rng: Rng,
  b: BodyShape,
  cavity: { ax: number; ay: number },
  diaphragmZ: number,
): void {
  const [Z] = canvas.extent;
  const gap = rng.uniform(24, 30);
  for (let z0 = diaphragmZ - 30 + rng.uniform(0, gap); z0 < Z + 20; z0 += gap) {
    for (const side of [-1, 1]) {
      // Each rib runs from the spine round the side to the front, dropping as it goes.
      let previous: Mm | undefined;
      for (let step = 0; step <= 16; step++) {
        const t = step / 16;
        const angle = Math.PI / 2 + side * t * Math.PI * 0.8;
        const point: Mm = [z0 - 35 * t, b.cy + Math.sin(angle) * (cavity.ay + 4), b.cx + Math.cos(angle) * (cavity.ax + 4)];
        if (previous) {
          canvas.forEachInCapsule(previous, point, 4.5, (i, distance) => {
            if (canvas.labels[i] === Tissue.muscle || canvas.labels[i] === Tissue.fat)
              canvas.set(i, distance > 2.5 ? Tissue.cortical : Tissue.marrow, distance > 2.5 ? 650 : 250);
          });
        }
        previous = point;
      }
    }
  }
  // Sternum: in front of the heart, along the chest.
  canvas.forEachInBox([diaphragmZ, b.cy - b.ay, b.cx - 14], [Z, b.cy - cavity.ay + 6, b.cx + 14], (i, _z, y, x) => {
    if (canvas.labels[i] !== Tissue.muscle) return;
    const r = Math.hypot((x - b.cx) / 14, (y - (b.cy - cavity.ay - 2)) / 6);
    if (r <= 1) canvas.set(i, r > 0.7 ? Tissue.cortical : Tissue.marrow, r > 0.7 ? 600 : 250);
  });
}
