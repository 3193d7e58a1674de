// The shape every `screener` sub-command has. Each lives in its own file under src/cli/commands/ and is
// made by defineCommand, which parses its arguments with its own option specs, prints the usage made
// from those specs on --help, and only then runs it.
import { parseArgs, type ParsedArgs } from './args';
import { formatUsage, type UsageText } from './usage';

export interface CommandDefinition extends UsageText {
  name: string;
  /** One line for `screener --help`. */
  summary: string;
  /** Whether the command takes positional arguments (FILE...); by default any one is an error. */
  positionals?: boolean;
  /**
   * True for a command that treats SIGINT and SIGTERM as its normal end (a server) and handles them
   * itself; for the others a signal discards the files being written and ends the process at once.
   */
  stopsOnSignal?: boolean;
  /** Runs the command on its parsed arguments; resolves to the process exit code. */
  execute(args: ParsedArgs): Promise<number>;
}

export interface Command extends UsageText {
  name: string;
  summary: string;
  /** Full usage text, printed by --help, `screener help NAME` and on a usage error. */
  usage: string;
  stopsOnSignal?: boolean;
  /** Parses `argv` (a UsageError for anything the specs do not allow), then runs; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

export function defineCommand(definition: CommandDefinition): Command {
  const { execute, positionals, ...described } = definition;
  const usage = formatUsage(definition);
  return {
    ...described,
    usage,
    async run(argv) {
      const args = parseArgs(argv, definition.options, { positionals });
      if (args.help) {
        console.log(usage);
        return 0;
      }
      return execute(args);
    },
  };
}
