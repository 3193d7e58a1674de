// A numbered set of phantom cases from one seed: case i has its own seed, and lesion kinds rotate
// through the pool so that any set of at least as many cases as kinds shows every kind.
import { Rng } from '../rng';
import { LESION_KINDS, type LesionKind } from './lesions';
import { generatePhantom, type Phantom } from './phantom';

export interface PhantomSetOptions {
  seed: number;
  healthy?: boolean;
  /** Kinds to draw lesions from; default every kind (TRAINING_LESION_KINDS leaves the held-out one out). */
  kinds?: readonly LesionKind[];
  size?: number;
}

export function phantomCaseSeed(seed: number, index: number): number {
  return new Rng((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0).nextUint32();
}

export function phantomCaseName(index: number): string {
  return `case_${String(index).padStart(3, '0')}`;
}

export function phantomLesionKinds(options: PhantomSetOptions, index: number): LesionKind[] {
  const pool = options.kinds ?? LESION_KINDS;
  if (options.healthy || pool.length === 0) return [];
  const rng = new Rng(phantomCaseSeed(options.seed, index) ^ 0x5bd1e995);
  const kinds = [pool[index % pool.length]!];
  const extra = rng.int(0, 2);
  for (let k = 0; k < extra; k++) {
    const kind = rng.pick(pool);
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return kinds;
}

export function generatePhantomCase(options: PhantomSetOptions, index: number): Phantom {
  return generatePhantom({
    seed: phantomCaseSeed(options.seed, index),
    healthy: options.healthy,
    lesions: phantomLesionKinds(options, index),
    size: options.size,
  });
}
