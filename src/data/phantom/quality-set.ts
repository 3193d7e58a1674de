// The quality benchmark's phantoms: a fixed design, so that two recipes (or two seeds of one) are
// scored on exactly the same cases. Every test case holds three lesions of different kinds; over the
// default 28 cases each of the seven kinds appears 12 times and the held-out kind is in 12 cases
// (43 %). Diameters run from 8 to 40 mm, spread evenly within each kind (a low-discrepancy ladder),
// at a voxel size (about 3 mm in-plane at the default 112-voxel grid) that resolves the smallest.
import { LESION_KINDS, TRAINING_LESION_KINDS, type LesionKind, type LesionRequest } from './lesions';
import { phantomCaseSeed } from './cases';
import { generatePhantom, phantomWithoutLesions, type Phantom } from './phantom';

export interface QualitySetOptions {
  /** Test cases with lesions (default 28). */
  cases: number;
  /** Healthy cases the intensity baseline is fitted on (default 8). */
  healthy: number;
  /** Training cases for the recipes, lesions of the trained kinds only (default 16). */
  train: number;
  /** Typical voxels per side (default 112: about 3 mm in-plane, 2.5-3.5 mm between slices). */
  size: number;
}

export const QUALITY_SET_DEFAULTS: QualitySetOptions = { cases: 28, healthy: 8, train: 16, size: 112 };

/** Lesion diameters of the test cases, in mm. */
export const QUALITY_DIAMETER_MM: readonly [number, number] = [8, 40];

/** Offsets into the kind list of a case's three lesions: distinct mod 7, and each cycles all kinds. */
const KIND_OFFSETS = [0, 2, 4];
const TEST_SEED = 7001;
const HEALTHY_SEED = 7002;
const TRAIN_SEED = 7003;
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** The lesions of test case `index`: kinds in rotation, each kind's diameters stepping through the range. */
export function qualityCaseLesions(index: number): LesionRequest[] {
  const kindAt = (c: number, o: number) => LESION_KINDS[(c + o) % LESION_KINDS.length]!;
  return KIND_OFFSETS.map((offset) => {
    const kind = kindAt(index, offset);
    // How many times this kind came before: cases 0..index-1 (all offsets) and this case's earlier offsets.
    let occurrence = 0;
    for (let c = 0; c <= index; c++) for (const o of KIND_OFFSETS) if ((c < index || o < offset) && kindAt(c, o) === kind) occurrence++;
    // Each kind starts at its own place on the ladder, so one case's three lesions differ in size.
    return { kind, diameterMm: diameterOnLadder(occurrence + 3 * LESION_KINDS.indexOf(kind)) };
  });
}

/** Rung `position` of a low-discrepancy ladder over QUALITY_DIAMETER_MM: any run of rungs spreads evenly. */
export function diameterOnLadder(position: number): number {
  const fraction = ((position + 0.5) * GOLDEN) % 1;
  const [lo, hi] = QUALITY_DIAMETER_MM;
  return +(lo + (hi - lo) * fraction).toFixed(2);
}

/**
 * `test-source` holds each test case's scan without its lesions (same anatomy, texture and noise), for
 * `screener eval --source-data`: whether a method sees a lesion, or only scores high where lesions lie.
 */
export type QualitySplit = 'test' | 'test-source' | 'healthy' | 'train';

/** Seed of case `index` of a split (the same for every run of the benchmark). */
export function qualityCaseSeed(split: QualitySplit, index: number): number {
  const base = split === 'test' || split === 'test-source' ? TEST_SEED : split === 'healthy' ? HEALTHY_SEED : TRAIN_SEED;
  return phantomCaseSeed(base, index);
}

/**
 * Test case `index` and the same scan without its lesions (its `test-source` case), from one generation:
 * writing both splits costs one phantom per case, not two.
 */
export function generateQualityTestPair(index: number, size: number): { test: Phantom; source: Phantom } {
  const test = generatePhantom({ seed: qualityCaseSeed('test', index), size, lesions: qualityCaseLesions(index), withoutLesions: true });
  return { test, source: phantomWithoutLesions(test) };
}

/** Case `index` of a split: test cases by the design above, healthy ones without lesions, training ones of the trained kinds. */
export function generateQualityCase(split: QualitySplit, index: number, size: number): Phantom {
  const seed = qualityCaseSeed(split, index);
  if (split === 'test') return generatePhantom({ seed, size, lesions: qualityCaseLesions(index) });
  if (split === 'test-source') return generateQualityTestPair(index, size).source;
  if (split === 'healthy') return generatePhantom({ seed, size, healthy: true });
  const lesions: LesionKind[] = [TRAINING_LESION_KINDS[index % TRAINING_LESION_KINDS.length]!];
  return generatePhantom({ seed, size, lesions });
}
