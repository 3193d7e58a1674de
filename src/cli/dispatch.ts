// `screener COMMAND ...`: finds the sub-command, runs it, and turns what it throws into the exit code.
// Kept apart from main.ts (the process entry point) so that tests run the command line in-process.
import { UsageError } from './args';
import type { Command } from './command';
import { commands } from './commands/index';

export function commandList(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: screener COMMAND [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'screener COMMAND --help (or screener help COMMAND) shows the options of one command.',
  ].join('\n');
}

export interface DispatchHooks {
  /** Called with the command about to run (main.ts installs its signal handlers here). */
  beforeRun?(command: Command): void;
}

/** Runs the command line `argv` (without the program name); resolves to the process exit code. */
export async function runScreener(argv: string[], hooks: DispatchHooks = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    console.log(commandList());
    return name ? 0 : 2;
  }
  if (name === 'help') {
    const target = commands.find((c) => c.name === rest[0]);
    if (target) {
      console.log(target.usage);
      return 0;
    }
    console.error(`screener help: unknown command "${rest[0]}"\n\n${commandList()}`);
    return 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`screener: unknown command "${name}"\n\n${commandList()}`);
    return 2;
  }
  hooks.beforeRun?.(command);
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`screener ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`screener ${name}: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.SCREENER_DEBUG && error instanceof Error) console.error(error.stack);
    return 1;
  }
}
