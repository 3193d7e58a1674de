// `--help` everywhere: every registered command prints the usage made from its option specs and exits
// 0, names every option it accepts, and refuses an unknown one with the usage on stderr. The loops run
// over the registered commands, so a new command is covered without a new test. In-process, through
// the same dispatcher as the built command line, plus one run of the built file.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index';
import { runScreener } from '../../src/cli/dispatch';
import { USAGE_WIDTH } from '../../src/cli/usage';
import { runCaptured } from '../helpers/run-command';

const screener = (argv: string[]) => runCaptured((a) => runScreener(a), argv);

beforeAll(() => {
  if (!existsSync('dist/cli.js')) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
});

describe('screener COMMAND --help', () => {
  it('covers every registered command', () => {
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(['doctor', 'info', 'train', 'predict', 'eval', 'demo', 'serve']));
  });

  for (const command of commands) {
    it(`${command.name}: --help and -h print the usage naming every option, and exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const run = await screener([command.name, flag]);
        expect(run.code).toBe(0);
        expect(run.err).toBe('');
        expect(run.out).toBe(command.usage);
        expect(run.out).toMatch(new RegExp(`^usage: screener ${command.name}\\b`));
        for (const [name, spec] of Object.entries(command.options)) {
          expect(run.out).toContain(`  --${name}${spec.value ? ` ${spec.value}` : ''}  `);
          expect(run.out).toContain(spec.description.split(' ').slice(0, 3).join(' '));
        }
      }
      expect((await screener(['help', command.name])).out).toBe(command.usage);
    });

    it(`${command.name}: the usage fits in ${USAGE_WIDTH} columns, names every option's value, and its synopsis names only options it takes`, () => {
      for (const line of command.usage.split('\n')) expect(line.length, line).toBeLessThanOrEqual(USAGE_WIDTH);
      for (const [name, spec] of Object.entries(command.options)) expect(spec.type === 'boolean' || spec.value !== undefined, `--${name} names its value`).toBe(true);
      const named = command.synopsis.join(' ').match(/--[a-z][a-z-]*/g) ?? [];
      for (const option of named) expect(Object.keys(command.options), `${command.name}: ${option}`).toContain(option.slice(2));
    });

    it(`${command.name}: an unknown option fails with exit code 2, the error and the usage on stderr`, async () => {
      const run = await screener([command.name, '--no-such-option']);
      expect(run.code).toBe(2);
      expect(run.out).toBe('');
      expect(run.err).toBe(`screener ${command.name}: unknown option --no-such-option\n\n${command.usage}`);
    });
  }

  it('--help after other options still prints the usage', async () => {
    const run = await screener(['eval', '--data', 'nowhere', '--help']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^usage: screener eval/);
  });
});

describe('screener --help', () => {
  it('lists every command with its summary, for --help, -h and help alike', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const run = await screener(argv);
      expect(run.code).toBe(0);
      const rows = run.out.split('\n').map((line) => line.trim().split(/ {2,}/));
      for (const c of commands) expect(rows).toContainEqual([c.name, c.summary]);
    }
  });

  it('refuses an unknown command or help topic with the list on stderr', async () => {
    for (const argv of [['frobnicate'], ['help', 'frobnicate']]) {
      const run = await screener(argv);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(/unknown command "frobnicate"[\s\S]*usage: screener COMMAND/);
    }
  });

  it('works the same in the built command line: eval --help exits 0 with its usage on stdout', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['dist/cli.js', 'eval', '--help'], { timeout: 60_000 });
    expect(stdout).toBe(`${commands.find((c) => c.name === 'eval')!.usage}\n`);
  });
});
