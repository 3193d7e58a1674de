// Preloaded into a child `node` (node --import ./test/helpers/report-max-rss.mjs ...) to report its
// peak resident memory on stderr as it exits: "max-rss-kb N". Written synchronously, so it is there
// even when the program ends with process.exit().
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nmax-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
