// Loss curves: a CSV of every step and a PNG line plot with one panel per stage (loss in colour, the
// learning rate in grey, each scaled to its panel), drawn with the project's own PNG writer.
import { RgbImage, type Rgb } from '../data/render/png';
import type { Stage } from '../model/config';
import type { LossRecord } from './trainer';

export function lossesCsv(history: readonly LossRecord[]): string {
  const rows = history.map((r) => `${r.stage},${r.step},${r.loss},${r.lr},${r.seconds.toFixed(3)}`);
  return ['stage,step,loss,lr,seconds', ...rows].join('\n') + '\n';
}

/** The seconds of all steps in a loss CSV that lossesCsv wrote (a resumed run's history included). */
export function stepSecondsOfCsv(csv: string): number {
  return csv.trim().split('\n').slice(1).reduce((sum, row) => sum + Number(row.split(',')[4]), 0);
}

const COLOURS: Record<Stage, Rgb> = { descriptor: [214, 39, 40], condition: [31, 119, 180], density: [44, 160, 44] };

// A 3x5 pixel font for the numbers on the plot: each glyph is five rows of three bits.
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  '-': [0, 0, 7, 0, 0],
  'e': [0, 7, 7, 4, 7],
  '+': [0, 2, 7, 2, 0],
};

/** Draws text of the glyphs above at (x, y), top-left, `scale` screen pixels per font pixel. */
function drawText(image: RgbImage, text: string, x: number, y: number, colour: Rgb, scale = 2): void {
  for (const [k, ch] of [...text].entries()) {
    const rows = GLYPHS[ch];
    if (!rows) continue;
    rows.forEach((bits, r) => {
      for (let c = 0; c < 3; c++) {
        if (!(bits & (4 >> c))) continue;
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) image.setPixel(x + (k * 4 + c) * scale + dx, y + r * scale + dy, colour);
      }
    });
  }
}

function label(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(2) : v.toPrecision(4);
}

function drawLine(image: RgbImage, x0: number, y0: number, x1: number, y1: number, colour: Rgb): void {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let i = 0; i <= steps; i++) {
    image.setPixel(Math.round(x0 + ((x1 - x0) * i) / steps), Math.round(y0 + ((y1 - y0) * i) / steps), colour);
  }
}

/**
 * A panel per stage present in the history, side by side; each panel's y range is its own, with the
 * highest and lowest loss written at its top and bottom left and the last step at the bottom right.
 */
export function plotLosses(history: readonly LossRecord[], panelWidth = 320, height = 220): Uint8Array {
  const stages = (['descriptor', 'condition', 'density'] as Stage[]).filter((s) => history.some((r) => r.stage === s));
  const margin = 16;
  const image = new RgbImage(Math.max(1, stages.length) * panelWidth, height, [255, 255, 255]);
  stages.forEach((stage, p) => {
    const records = history.filter((r) => r.stage === stage);
    const left = p * panelWidth + margin;
    const right = (p + 1) * panelWidth - margin;
    const top = margin;
    const bottom = height - margin;
    // Frame.
    drawLine(image, left, top, right, top, [200, 200, 200]);
    drawLine(image, left, bottom, right, bottom, [120, 120, 120]);
    drawLine(image, left, top, left, bottom, [120, 120, 120]);
    drawLine(image, right, top, right, bottom, [200, 200, 200]);
    const lastStep = Math.max(...records.map((r) => r.step));
    const x = (step: number) => left + ((right - left) * (step - 1)) / Math.max(1, lastStep - 1);
    // Each series fills the panel's height, except that the running mean is drawn on the raw loss's
    // scale (`range`), so that the two lines and the labels agree.
    const series = (values: number[], colour: Rgb, range: [number, number] = [Math.min(...values), Math.max(...values)]) => {
      const [lo, hi] = range;
      const y = (v: number) => bottom - ((bottom - top) * (v - lo)) / (hi - lo || 1);
      for (let i = 1; i < values.length; i++) drawLine(image, x(records[i - 1]!.step), y(values[i - 1]!), x(records[i]!.step), y(values[i]!), colour);
      if (values.length === 1) image.setPixel(Math.round(x(records[0]!.step)), Math.round(y(values[0]!)), colour);
    };
    series(records.map((r) => r.lr), [190, 190, 190]);
    // A running mean over a few steps shows the trend through the per-step noise; the raw loss is faint.
    const losses = records.map((r) => r.loss);
    const lossRange: [number, number] = [Math.min(...losses), Math.max(...losses)];
    series(losses, COLOURS[stage].map((c) => Math.round(c + (255 - c) * 0.6)) as Rgb, lossRange);
    const window = Math.max(1, Math.round(records.length / 30));
    series(losses.map((_, i) => mean(losses.slice(Math.max(0, i - window + 1), i + 1))), COLOURS[stage], lossRange);
    drawText(image, label(lossRange[1]), left + 3, top + 3, COLOURS[stage]);
    drawText(image, label(lossRange[0]), left + 3, bottom - 13, COLOURS[stage]);
    const steps = String(lastStep);
    drawText(image, steps, right - 8 * steps.length - 2, bottom - 13, [120, 120, 120]);
  });
  return image.toPng();
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
