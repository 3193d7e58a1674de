// The shape every `screener` sub-command has. Each lives in its own file under src/cli/commands/.
export interface Command {
  name: string;
  /** One line for `screener --help`. */
  summary: string;
  /** Full usage text, printed by `screener help NAME` and on a usage error. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}
