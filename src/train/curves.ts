// Loss curves: a CSV of every step and a PNG line plot with one panel per stage (loss in colour, the
// learning rate in grey, each scaled to its panel), drawn with the project's own PNG writer.
import { RgbImage, type Rgb } from '../data/png';
import type { Stage } from '../model/config';
import type { LossRecord } from './trainer';

export function lossesCsv(history: readonly LossRecord[]): string {
  const rows = history.map((r) => `${r.stage},${r.step},${r.loss},${r.lr},${r.seconds.toFixed(3)}`);
  return ['stage,step,loss,lr,seconds', ...rows].join('\n') + '\n';
}

const COLOURS: Record<Stage, Rgb> = { descriptor: [214, 39, 40], condition: [31, 119, 180], density: [44, 160, 44] };

function drawLine(image: RgbImage, x0: number, y0: number, x1: number, y1: number, colour: Rgb): void {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let i = 0; i <= steps; i++) {
    image.setPixel(Math.round(x0 + ((x1 - x0) * i) / steps), Math.round(y0 + ((y1 - y0) * i) / steps), colour);
  }
}

/** A panel per stage present in the history, side by side; each panel's y range is its own. */
export function plotLosses(history: readonly LossRecord[], panelWidth = 320, height = 220): Uint8Array {
  const stages = (['descriptor', 'condition', 'density'] as Stage[]).filter((s) => history.some((r) => r.stage === s));
  const margin = 12;
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
    const series = (values: number[], colour: Rgb) => {
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      const y = (v: number) => bottom - ((bottom - top) * (v - lo)) / (hi - lo || 1);
      for (let i = 1; i < values.length; i++) drawLine(image, x(records[i - 1]!.step), y(values[i - 1]!), x(records[i]!.step), y(values[i]!), colour);
      if (values.length === 1) image.setPixel(Math.round(x(records[0]!.step)), Math.round(y(values[0]!)), colour);
    };
    series(records.map((r) => r.lr), [190, 190, 190]);
    // A running mean over a few steps shows the trend through the per-step noise; the raw loss is faint.
    const losses = records.map((r) => r.loss);
    series(losses, COLOURS[stage].map((c) => Math.round(c + (255 - c) * 0.6)) as Rgb);
    const window = Math.max(1, Math.round(records.length / 30));
    series(losses.map((_, i) => mean(losses.slice(Math.max(0, i - window + 1), i + 1))), COLOURS[stage]);
  });
  return image.toPng();
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
