// The shape every `screener` sub-command has. Each lives in its own file under src/cli/commands/.
export interface Command {
  name: string;
  /** One line for `screener --help`. */
  summary: string;
  /** Full usage text, printed by `screener help NAME` and on a usage error. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
  /**
   * True for a command that treats SIGINT and SIGTERM as its normal end (a server) and handles them
   * itself; for the others a signal discards the files being written and ends the process at once.
   */
  stopsOnSignal?: boolean;
}
