// `screener`: the command-line entry point. Dispatches to one sub-command and sets the exit code.
import { discardPendingFiles } from '../data/io/atomic-write.node';
import { disposeNodeRuntimes } from '../gpu/node';
import { UsageError } from './args';
import { commands } from './commands/index';
import { runToExit } from './run-to-exit';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: screener COMMAND [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'screener help COMMAND shows the options of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(help());
    return name ? 0 : 2;
  }
  if (name === 'help') {
    const target = commands.find((c) => c.name === rest[0]);
    console.log(target ? target.usage : help());
    return target ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`screener: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (!command.stopsOnSignal) exitOnStopSignals();
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

/**
 * Stopped by Ctrl-C or `kill`: remove the temporary files of writes in progress, then end as the
 * signal would have (128 + its number), so that no hidden half-written file is left behind.
 */
function exitOnStopSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      discardPendingFiles();
      disposeNodeRuntimes();
      console.error(`screener: stopped by ${signal}`);
      process.exit(code);
    });
  }
}

runToExit(() => main(process.argv.slice(2)));
