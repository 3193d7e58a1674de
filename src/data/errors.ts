// The one error type of the data layer. Every message starts with the file (or input) it is about,
// so a user who feeds a folder of scans learns at once which one is bad and why.
export class DataError extends Error {
  override name = 'DataError';
  constructor(
    /** The file or input the problem is in, as the user named it. */
    readonly source: string,
    /** What is wrong, in words. */
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}
