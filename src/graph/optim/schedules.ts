// Learning-rate schedules: pure functions from the step index (counted from 0) to a learning rate.
// Set `optimizer.lr = schedule(step)` before each step.

export type Schedule = (step: number) => number;

export interface WarmupCosineOptions {
  /** The learning rate reached at the end of warm-up. */
  peakLr: number;
  warmupSteps: number;
  /** Steps in all, warm-up included; after them the rate stays at minLr. */
  totalSteps: number;
  /** The rate the cosine decays to (default 0). */
  minLr?: number;
}

/**
 * Linear warm-up from 0 to peakLr over warmupSteps (step s gives peakLr * s / warmupSteps), then a
 * half cosine from peakLr down to minLr at totalSteps:
 *   minLr + (peakLr - minLr) * (1 + cos(pi * (s - warmupSteps) / (totalSteps - warmupSteps))) / 2.
 * The same curve as Hugging Face's get_cosine_schedule_with_warmup, with a floor.
 */
export function warmupCosine(options: WarmupCosineOptions): Schedule {
  const { peakLr, warmupSteps, totalSteps, minLr = 0 } = options;
  if (!(peakLr >= 0 && minLr >= 0 && minLr <= peakLr)) throw new RangeError(`warmupCosine: need 0 <= minLr <= peakLr, got ${minLr} and ${peakLr}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new RangeError(`warmupCosine: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  if (!Number.isInteger(totalSteps) || totalSteps <= warmupSteps) {
    throw new RangeError(`warmupCosine: totalSteps (${totalSteps}) must be an integer above warmupSteps (${warmupSteps})`);
  }
  return (step) => {
    checkStep('warmupCosine', step);
    if (step < warmupSteps) return (peakLr * step) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    return minLr + ((peakLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  };
}

export interface OneCycleOptions {
  maxLr: number;
  totalSteps: number;
  /** Fraction of the steps spent rising (default 0.3). */
  pctStart?: number;
  /** Initial rate = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** Final rate = initial rate / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Shape of both phases (default 'cos'). */
  anneal?: 'cos' | 'linear';
}

/**
 * The one-cycle policy (Smith and Topin), exactly as torch.optim.lr_scheduler.OneCycleLR (two phases):
 * from maxLr / divFactor up to maxLr at step pctStart * totalSteps - 1, then down to
 * maxLr / (divFactor * finalDivFactor) at step totalSteps - 1, each phase annealed by a half cosine
 * (or linearly). After the last step the rate stays at the final one.
 */
export function oneCycle(options: OneCycleOptions): Schedule {
  const { maxLr, totalSteps, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4, anneal = 'cos' } = options;
  if (!(maxLr > 0)) throw new RangeError(`oneCycle: maxLr must be positive, got ${maxLr}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 2) throw new RangeError(`oneCycle: totalSteps must be an integer >= 2, got ${totalSteps}`);
  if (!(pctStart > 0 && pctStart < 1)) throw new RangeError(`oneCycle: pctStart must be in (0, 1), got ${pctStart}`);
  const initialLr = maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
  const peakStep = pctStart * totalSteps - 1;
  const lastStep = totalSteps - 1;
  const interpolate = (start: number, end: number, pct: number): number =>
    anneal === 'cos' ? end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1) : start + (end - start) * pct;
  return (step) => {
    checkStep('oneCycle', step);
    if (step <= peakStep) return interpolate(initialLr, maxLr, peakStep > 0 ? step / peakStep : 1);
    return interpolate(maxLr, minLr, Math.min(1, (step - peakStep) / (lastStep - peakStep)));
  };
}

function checkStep(name: string, step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`${name}: the step must be an integer >= 0, got ${step}`);
}
