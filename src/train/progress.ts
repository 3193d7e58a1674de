// The progress line of a training run: stage, step, loss, steps/s and the time left, plus the
// one-line summary printed at the end (easy to grep from a log of a run on another machine).
import type { Stage } from '../model/config';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export interface ProgressState {
  stage: Stage;
  step: number;
  steps: number;
  loss: number;
  stepsPerSecond: number;
}

export function progressLine(p: ProgressState, width = 24): string {
  const filled = Math.round((width * p.step) / p.steps);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const eta = p.stepsPerSecond > 0 ? (p.steps - p.step) / p.stepsPerSecond : Infinity;
  return `${p.stage.padEnd(10)} [${bar}] ${String(p.step).padStart(String(p.steps).length)}/${p.steps}  loss ${p.loss.toPrecision(5)}  ${p.stepsPerSecond.toFixed(3)} steps/s  ETA ${formatDuration(eta)}`;
}

/** Steps per second over the last few steps (the first steps compile pipelines and would skew a plain mean). */
export class RateMeter {
  private readonly times: number[] = [];
  constructor(private readonly window = 20) {}

  tick(now = performance.now()): number {
    this.times.push(now);
    if (this.times.length > this.window + 1) this.times.shift();
    if (this.times.length < 2) return 0;
    return ((this.times.length - 1) * 1000) / (this.times[this.times.length - 1]! - this.times[0]!);
  }

  reset(): void {
    this.times.length = 0;
  }
}

export interface RunSummary {
  steps: Partial<Record<Stage, number>>;
  seconds: number;
  finalLosses: Partial<Record<Stage, number>>;
}

/** "trained: descriptor 600 + condition 600 + density 600 steps in 3605 s (0.499 steps/s); final losses descriptor 12.1, ..." */
export function summaryLine(s: RunSummary): string {
  const stages = Object.keys(s.steps) as Stage[];
  const total = stages.reduce((n, st) => n + s.steps[st]!, 0);
  const steps = stages.map((st) => `${st} ${s.steps[st]}`).join(' + ');
  const losses = (Object.keys(s.finalLosses) as Stage[]).map((st) => `${st} ${s.finalLosses[st]!.toPrecision(5)}`).join(', ');
  return `trained: ${steps || 'no'} steps in ${s.seconds.toFixed(0)} s (${(total / Math.max(s.seconds, 1e-9)).toFixed(3)} steps/s); final losses ${losses || 'none'}`;
}
