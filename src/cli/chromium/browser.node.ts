// Starting the system Chromium headless for `--runtime chromium`, through puppeteer (a development
// dependency, loaded only here and only when asked for) and never a browser puppeteer downloads.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer';
import { chromiumArgs, chromiumPath } from './flags';

export { chromiumPath };

export const INSTALL_CHROMIUM = 'apt-get install -y chromium libvulkan1';

export interface LaunchedChromium {
  browser: Browser;
  /** Kills the browser and removes its profile; safe to call more than once. */
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`--runtime chromium: no Chromium at ${executablePath}: install it (${INSTALL_CHROMIUM}) or set CHROMIUM_PATH`);
  }
  let puppeteer: typeof import('puppeteer').default;
  try {
    puppeteer = (await import('puppeteer')).default;
  } catch (error) {
    throw new Error(`--runtime chromium needs the puppeteer package (npm install, with the development dependencies): ${error instanceof Error ? error.message : String(error)}`);
  }
  // A fresh profile per run: nothing carries over from, or into, anyone's browser.
  const profile = mkdtempSync(join(tmpdir(), 'screener-chromium-'));
  const args = chromiumArgs();
  let browser: Browser;
  try {
    browser = await puppeteer.launch({ executablePath, headless: true, userDataDir: profile, args, pipe: true });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`--runtime chromium: cannot start ${executablePath} (${INSTALL_CHROMIUM}): ${error instanceof Error ? error.message : String(error)}`);
  }
  // Ctrl-C and errors end the process with process.exit: the browser must not outlive it.
  const onExit = () => {
    browser.process()?.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  let closed = false;
  return {
    browser,
    async close() {
      if (closed) return;
      closed = true;
      process.removeListener('exit', onExit);
      // A stuck renderer may not answer; do not let closing hold up the command.
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref())]);
      browser.process()?.kill('SIGKILL');
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
