// The live loss curves of a training run: one panel per stage, side by side, each scaled to its own
// losses (the stages' losses differ in kind and size: VICReg terms, then nats per pooled voxel).
import type { LossRecord, Stage } from '../screener';

const COLOURS: Record<Stage, string> = { descriptor: '#e0524f', condition: '#4d9de0', density: '#57ab5a' };

export class LossPlot {
  private stages: Stage[] = [];
  private losses = new Map<Stage, number[]>();
  private steps = 1;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  reset(stages: Stage[], stepsPerStage: number): void {
    this.stages = stages;
    this.steps = stepsPerStage;
    this.losses = new Map(stages.map((s) => [s, []]));
    this.draw();
  }

  add(record: LossRecord): void {
    this.losses.get(record.stage)?.push(record.loss);
    this.draw();
  }

  private draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.round(this.canvas.clientWidth * dpr) || this.canvas.width;
    const height = Math.round(this.canvas.clientHeight * dpr) || this.canvas.height;
    this.canvas.width = width;
    this.canvas.height = height;
    const g = this.canvas.getContext('2d')!;
    g.clearRect(0, 0, width, height);
    if (!this.stages.length) return;
    const gap = 8 * dpr;
    const panel = (width - gap * (this.stages.length - 1)) / this.stages.length;
    const font = 11 * dpr;
    g.font = `${font}px system-ui, sans-serif`;
    this.stages.forEach((stage, k) => {
      const x0 = k * (panel + gap);
      const top = font * 2.6;
      const bottom = height - font * 0.8;
      const values = this.losses.get(stage)!;
      g.fillStyle = COLOURS[stage];
      g.fillText(stage, x0 + 4 * dpr, font * 1.2);
      g.fillStyle = '#9aa0ab';
      const last = values.at(-1);
      g.fillText(last === undefined ? 'waiting' : `step ${values.length}/${this.steps}  loss ${last.toPrecision(4)}`, x0 + 4 * dpr, font * 2.3);
      g.strokeStyle = '#2b2f38';
      g.strokeRect(x0 + 0.5, top, panel - 1, bottom - top);
      if (!values.length) return;
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      const span = hi - lo || Math.abs(hi) || 1;
      const px = (i: number) => x0 + 2 * dpr + ((panel - 4 * dpr) * i) / Math.max(1, this.steps - 1);
      const py = (v: number) => bottom - 2 * dpr - ((bottom - top - 4 * dpr) * (v - lo)) / span;
      g.strokeStyle = COLOURS[stage];
      g.lineWidth = 1.5 * dpr;
      g.beginPath();
      values.forEach((v, i) => (i ? g.lineTo(px(i), py(v)) : g.moveTo(px(i), py(v))));
      if (values.length === 1) g.arc(px(0), py(values[0]!), 2 * dpr, 0, 2 * Math.PI);
      g.stroke();
    });
  }
}
