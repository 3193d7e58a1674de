// Runs a `screener` command (or any argv -> exit code function) in-process, as the command line would,
// capturing what it prints: console.log lines as `out`, console.error lines as `err` (and one by one as
// `errors`); raw writes to stderr (progress bars) are dropped.
import { vi } from 'vitest';

export interface CapturedRun {
  code: number;
  out: string;
  err: string;
  errors: string[];
}

export async function runCaptured(run: (argv: string[]) => Promise<number>, argv: string[]): Promise<CapturedRun> {
  const out: string[] = [];
  const errors: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void errors.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await run(argv);
    return { code, out: out.join('\n'), err: errors.join('\n'), errors };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

/** The same for a command object. */
export function runCommand(command: { run(argv: string[]): Promise<number> }, argv: string[]): Promise<CapturedRun> {
  return runCaptured((a) => command.run(a), argv);
}
