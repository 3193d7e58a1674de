// Learning-rate schedules against their closed forms and landmark values.
import { describe, expect, it } from 'vitest';
import * as g from '../../src/graph';

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));

describe('warmupCosine', () => {
  const peakLr = 3e-4;
  const minLr = 1e-5;
  const warmupSteps = 7;
  const totalSteps = 53;
  const schedule = g.warmupCosine({ peakLr, warmupSteps, totalSteps, minLr });

  it('rises linearly from 0 to the peak over the warm-up', () => {
    expect(schedule(0)).toBe(0);
    for (let s = 0; s < warmupSteps; s++) close(schedule(s), (peakLr * s) / warmupSteps);
    close(schedule(warmupSteps), peakLr);
  });

  it('follows a half cosine down to minLr, then stays there', () => {
    for (let s = warmupSteps; s <= totalSteps; s++) {
      const t = (s - warmupSteps) / (totalSteps - warmupSteps);
      close(schedule(s), minLr + 0.5 * (peakLr - minLr) * (1 + Math.cos(Math.PI * t)));
    }
    close(schedule(warmupSteps + (totalSteps - warmupSteps) / 2), (peakLr + minLr) / 2);
    close(schedule(totalSteps), minLr);
    close(schedule(totalSteps + 100), minLr);
    for (let s = warmupSteps; s < totalSteps; s++) expect(schedule(s + 1)).toBeLessThan(schedule(s));
  });

  it('works without warm-up and rejects bad settings', () => {
    const noWarmup = g.warmupCosine({ peakLr: 1, warmupSteps: 0, totalSteps: 10 });
    close(noWarmup(0), 1);
    close(noWarmup(10), 0);
    expect(() => g.warmupCosine({ peakLr: 1, warmupSteps: 10, totalSteps: 10 })).toThrow(/totalSteps/);
    expect(() => g.warmupCosine({ peakLr: 1, warmupSteps: 2, totalSteps: 10, minLr: 2 })).toThrow(/minLr/);
    expect(() => schedule(-1)).toThrow(/step/);
    expect(() => schedule(1.5)).toThrow(/step/);
  });
});

describe('oneCycle', () => {
  const maxLr = 0.01;
  const totalSteps = 100;

  it('matches the closed form of PyTorch OneCycleLR (cosine, defaults)', () => {
    const schedule = g.oneCycle({ maxLr, totalSteps });
    const initial = maxLr / 25;
    const final = initial / 1e4;
    const peak = 0.3 * totalSteps - 1; // 29
    const cosine = (from: number, to: number, t: number) => to + ((from - to) * (1 + Math.cos(Math.PI * t))) / 2;
    for (let s = 0; s < totalSteps; s++) {
      const expected = s <= peak ? cosine(initial, maxLr, s / peak) : cosine(maxLr, final, (s - peak) / (totalSteps - 1 - peak));
      close(schedule(s), expected);
    }
    close(schedule(0), 4e-4);
    close(schedule(29), maxLr);
    close(schedule(99), 4e-8);
  });

  it('linear annealing with other factors', () => {
    const schedule = g.oneCycle({ maxLr: 1, totalSteps: 11, pctStart: 0.5, divFactor: 10, finalDivFactor: 100, anneal: 'linear' });
    // Phase one: steps 0..4.5 from 0.1 to 1; phase two: 4.5..10 from 1 to 0.001.
    for (let s = 0; s <= 4; s++) close(schedule(s), 0.1 + (0.9 * s) / 4.5);
    for (let s = 5; s <= 10; s++) close(schedule(s), 1 + ((0.001 - 1) * (s - 4.5)) / 5.5);
    close(schedule(10), 0.001);
    close(schedule(20), 0.001);
  });

  it('rejects bad settings', () => {
    expect(() => g.oneCycle({ maxLr: 0, totalSteps: 10 })).toThrow(/maxLr/);
    expect(() => g.oneCycle({ maxLr: 1, totalSteps: 1 })).toThrow(/totalSteps/);
    expect(() => g.oneCycle({ maxLr: 1, totalSteps: 10, pctStart: 1 })).toThrow(/pctStart/);
  });
});
