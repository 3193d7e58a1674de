// PyTorch as the peer of the training-step benchmark: bench/peers/torch_train_step.py builds the same
// networks from the same configuration and times one step of each stage, on the CPU (or on CUDA when
// asked), in a child process started from the benchmark itself, before or after the engine is timed,
// never beside it. Absent when python3 cannot import torch: the benchmark then says so and goes on.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { ScreenerConfig, Stage } from '../../src/model/config';

export interface TorchStepTimes {
  torch: string;
  device: string;
  threads: number;
  /** Median milliseconds per step of each stage. */
  ms: Record<Stage, number>;
}

// $PYTHON when set; otherwise the first python3 that has torch (a version manager's python3 on the
// PATH may lack the distribution's python3-torch, which /usr/bin/python3 has).
const PYTHONS = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];

function script(): string {
  // The benchmarks run from dist/bench.js, one folder below the project root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'peers', 'torch_train_step.py');
}

/** Times the peer's steps, or returns why it could not: torch missing, or the script failed. */
export function torchTrainStep(config: ScreenerConfig, steps: number, device = 'cpu'): TorchStepTimes | { unavailable: string } {
  const python = PYTHONS.find((p) => spawnSync(p, ['-c', 'import torch']).status === 0);
  if (!python) return { unavailable: `no python3 here imports torch (${PYTHONS.join(', ')}; apt-get install -y python3-torch)` };
  const run = spawnSync(python, [script(), '--steps', String(steps), '--device', device], {
    input: JSON.stringify(config),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return { unavailable: `the PyTorch peer failed: ${(run.stderr || String(run.error)).trim().split('\n').slice(-3).join(' | ')}` };
  const r = JSON.parse(run.stdout) as Record<string, unknown>;
  return {
    torch: String(r.torch),
    device: String(r.device),
    threads: Number(r.threads),
    ms: { descriptor: Number(r.descriptor), condition: Number(r.condition), density: Number(r.density) },
  };
}
