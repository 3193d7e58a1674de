// `screener`: the command-line entry point. Runs the command line (dispatch.ts) and sets the exit code.
import { discardPendingFiles } from '../data/io/atomic-write.node';
import { disposeNodeRuntimes } from '../gpu/node';
import { runScreener } from './dispatch';
import { runToExit } from './run-to-exit';

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

runToExit(() =>
  runScreener(process.argv.slice(2), {
    beforeRun: (command) => {
      if (!command.stopsOnSignal) exitOnStopSignals();
    },
  }),
);
