// The progress bar's time left comes from the units done since its first report, so a slow first unit
// (the GPU pipelines compiled before the first window batch) does not inflate it; into a log, a bar
// asked for it writes a line at least every so many seconds, and one line for a short phase.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressBar, StepProgress } from '../../src/eval/progress';

let now = 0;
let clock: { mockRestore(): void } | undefined;
/** performance.now() returns `now` until the test ends. */
function fakeClock(): void {
  clock = vi.spyOn(performance, 'now').mockImplementation(() => now);
}
afterEach(() => clock?.mockRestore());

function logSink() {
  const lines: string[] = [];
  return { lines, sink: { write: (text: string) => void lines.push(...text.split('\n').filter(Boolean)) } };
}

describe('ProgressBar', () => {
  it('estimates the time left from the units done since the first report', () => {
    fakeClock();
    now = 0;
    const { lines, sink } = logSink();
    const bar = new ProgressBar(sink, 'windows', 'windows', { everySeconds: 2 });
    bar.update(0, 800); // the phase begins: no rate yet
    now = 60_000; // the first batch of 16 takes a minute (pipelines compiled)
    bar.update(16, 800);
    expect(bar.secondsLeft()).toBe(Infinity);
    now = 62_000; // then 16 windows a second
    bar.update(48, 800);
    // 32 windows in 2 s: 752 left take 47 s (from the start it would be 62 / 48 * 752 = 971 s).
    expect(bar.secondsLeft()).toBeCloseTo(47, 6);
    expect(lines.at(-1)).toMatch(/^windows \[#-+\] 48\/800 windows {2}1 min 2 s, ETA 47 s$/);
    // Waiting 3 s for the next batch counts the time left down; it does not change the rate.
    now = 65_000;
    bar.refresh();
    expect(bar.secondsLeft()).toBeCloseTo(44, 6);
    expect(lines.at(-1)).toMatch(/ 48\/800 windows {2}1 min 5 s, ETA 44 s$/);
  });

  it('writes into a log at least every `everySeconds`, also while waiting, and one line for a short phase', () => {
    fakeClock();
    now = 0;
    const { lines, sink } = logSink();
    const bar = new ProgressBar(sink, 'windows', 'windows', { everySeconds: 2 });
    now = 500;
    bar.update(1, 10); // too soon after the start for a line
    expect(lines).toHaveLength(0);
    now = 2100;
    bar.refresh(); // waiting on the GPU: the same counts, a later time
    expect(lines).toEqual([expect.stringMatching(/^windows .* 1\/10 windows {2}2\.1 s, ETA \?$/)]);
    now = 3000;
    bar.update(2, 10);
    expect(lines).toHaveLength(1);
    now = 4200;
    bar.update(3, 10);
    expect(lines).toHaveLength(2);
    bar.update(10, 10);
    expect(lines).toHaveLength(3);
    bar.update(10, 10);
    bar.refresh();
    expect(lines).toHaveLength(3); // nothing after the end

    const quick = logSink();
    const steps = new StepProgress(quick.sink, 'preprocessing', { everySeconds: 2 });
    steps.update('body', 1, 4);
    steps.update('body', 3, 4);
    steps.update('resampling', 0, 1);
    steps.finish();
    expect(quick.lines).toEqual([
      expect.stringMatching(/^preprocessing: body \[#+\] 100\/100 %/),
      expect.stringMatching(/^preprocessing: resampling \[#+\] 100\/100 %/),
    ]);
  });

  it('still writes a line per quarter into a log when not asked for a time interval', () => {
    const { lines, sink } = logSink();
    const bar = new ProgressBar(sink, 'eval', 'scans');
    for (let i = 1; i <= 8; i++) bar.update(i, 8);
    expect(lines.map((l) => l.match(/(\d+)\/8/)![1])).toEqual(['1', '2', '4', '6', '8']);
  });
});
