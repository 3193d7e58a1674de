// Running a command's main function (the `screener` command's, the benchmark runner's) to its exit
// code, and making sure the process then ends.
import { releaseDawnWhenIdle } from '../gpu/node';

/**
 * Called when a command's work is done. The process normally ends by itself once the device is
 * destroyed and Dawn's GPU object is released, but some Vulkan drivers keep native threads alive;
 * an unreferenced timer ends the process then and changes nothing otherwise.
 */
async function exitOnceIdle(graceMs = 3000): Promise<void> {
  await releaseDawnWhenIdle();
  setTimeout(() => process.exit(), graceMs).unref();
}

/** Runs a command's main function to its exit code, and makes sure the process then ends. */
export function runToExit(main: () => Promise<number>): void {
  main()
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error) => {
        console.error(error);
        process.exitCode = 1;
      },
    )
    .finally(() => void exitOnceIdle());
}
