// A one-line progress bar for long loops (windows of a scan, cases of a dataset). On a terminal it
// redraws one line in place; into a file or pipe it writes a line at each quarter, so logs stay short.
export interface ProgressSink {
  write(text: string): void;
  /** True for a terminal that understands carriage returns. */
  isTTY?: boolean;
}

const WIDTH = 24;

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

export class ProgressBar {
  private readonly started = performance.now();
  private lastQuarter = -1;
  private lastDraw = 0;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly label: string,
    private readonly unit: string,
  ) {}

  /** Reports `done` of `total`; `note` is appended (e.g. the case name). */
  update(done: number, total: number, note = ''): void {
    if (!this.sink) return;
    const elapsed = (performance.now() - this.started) / 1000;
    const fraction = total > 0 ? done / total : 1;
    const eta = done > 0 ? (elapsed / done) * (total - done) : Infinity;
    const filled = Math.round(fraction * WIDTH);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total} ${this.unit}  ${formatSeconds(elapsed)}, ETA ${formatSeconds(eta)}${note ? `  ${note}` : ''}`;
    if (this.sink.isTTY) {
      const now = performance.now();
      if (done < total && now - this.lastDraw < 100) return; // a terminal need not redraw faster than this
      this.lastDraw = now;
      this.sink.write(`\r${line}\x1b[K${done >= total ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.sink.write(`${line}\n`);
    }
  }
}
