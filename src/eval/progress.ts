// A one-line progress bar for long loops (windows of a scan, cases of a dataset, the phases of a
// prediction). On a terminal it redraws one line in place. Into a file or pipe it writes a line at
// each quarter, so logs stay short; or, when asked (`everySeconds`), a line whenever that long has
// passed since the last one (or the start) and one at the end, so a log shows a long phase is alive
// and a short one takes a single line.
//
// The time left is estimated from the units actually done since the first report of some done, not
// since the bar was made: the first unit often carries a one-off cost (compiling the GPU pipelines before the first
// window batch) that would otherwise be charged to every unit still to come. Until a second report
// gives a rate, the time left is shown as '?'.
export interface ProgressSink {
  write(text: string): void;
  /** True for a terminal that understands carriage returns. */
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Into a file or pipe, also write a line whenever this many seconds passed since the last one. */
  everySeconds?: number;
  /** Show done and total divided by this (e.g. 2^20 to count bytes in MiB), with `digits` decimals. */
  divisor?: number;
  digits?: number;
}

const WIDTH = 24;

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

export class ProgressBar {
  private readonly started = performance.now();
  private lastQuarter = -1;
  private lastDraw = -Infinity;
  /** The first report: the rate is measured from it. */
  private first: { time: number; done: number } | null = null;
  private last: { done: number; total: number; note: string; time: number } | null = null;
  private finished = false;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly label: string,
    private readonly unit: string,
    private readonly options: ProgressOptions = {},
  ) {}

  /** Reports `done` of `total`; `note` is appended (e.g. the case name, or the step of a phase). */
  update(done: number, total: number, note = ''): void {
    if (!this.sink || this.finished) return;
    const now = performance.now();
    // The rate starts at the first report of work done, not at a report of nothing done yet.
    if (!this.first && done > 0) this.first = { time: now, done };
    this.last = { done, total, note, time: now };
    this.draw(now, false);
  }

  /** Draws the last report again with the time now (for a phase waiting on the GPU); a no-op before any report. */
  refresh(): void {
    if (this.sink && this.last && !this.finished) this.draw(performance.now(), true);
  }

  /**
   * Seconds left at the rate of the units done between the first report and the last one (Infinity
   * when unknown), less the time since the last report: a wait between reports counts down, it does
   * not change the rate.
   */
  secondsLeft(now = performance.now()): number {
    const last = this.last;
    if (!last) return Infinity;
    if (last.done >= last.total) return 0;
    if (!this.first || last.done <= this.first.done) return Infinity;
    const rate = (last.time - this.first.time) / 1000 / (last.done - this.first.done);
    return Math.max(0, rate * (last.total - last.done) - (now - last.time) / 1000);
  }

  private draw(now: number, heartbeat: boolean): void {
    const { done, total, note } = this.last!;
    const elapsed = (now - this.started) / 1000;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * WIDTH);
    const { divisor = 1, digits = 0 } = this.options;
    const count = (n: number) => (n / divisor).toFixed(digits);
    const line =
      `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${count(done)}/${count(total)} ${this.unit}  ` +
      `${formatSeconds(elapsed)}, ETA ${formatSeconds(this.secondsLeft(now))}${note ? `  ${note}` : ''}`;
    const complete = done >= total;
    if (complete) this.finished = true;
    if (this.sink!.isTTY) {
      if (!complete && now - this.lastDraw < 100) return; // a terminal need not redraw faster than this
      this.lastDraw = now;
      this.sink!.write(`\r${line}\x1b[K${complete ? '\n' : ''}`);
      return;
    }
    const every = this.options.everySeconds;
    let due: boolean;
    if (every !== undefined) {
      due = (now - Math.max(this.lastDraw, this.started)) / 1000 >= every;
    } else {
      const quarter = Math.floor(fraction * 4);
      due = !heartbeat && quarter > this.lastQuarter;
      this.lastQuarter = Math.max(this.lastQuarter, quarter);
    }
    if (due || complete) {
      this.lastDraw = now;
      this.sink!.write(`${line}\n`);
    }
  }
}

/**
 * Progress of a phase made of steps of different kinds (preprocessing: the body mask, resampling,
 * CLAHE): one bar per step, labelled with it and counting percent of that step, the previous one
 * completed when the next step begins.
 */
export class StepProgress {
  private step = '';
  private bar: ProgressBar | null = null;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly label: string,
    private readonly options: ProgressOptions = {},
  ) {}

  update(step: string, done: number, total: number): void {
    if (step !== this.step) {
      this.finish();
      this.step = step;
      this.bar = new ProgressBar(this.sink, `${this.label}: ${step}`, '%', this.options);
    }
    this.bar!.update(total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100, 100);
  }

  /** Completes the current step's bar. */
  finish(): void {
    this.bar?.update(100, 100);
    this.bar = null;
  }
}
