// The file checks of `screener eval` (output-paths.ts): no output is one of the scans or models it
// reads, and every output folder is writable before the first case is scored. Its outputs are
// replaced on every run, as its usage says: --json, and the pictures and maps under --montages and
// --maps.
import { stringOption, type ParsedArgs } from '../args';
import { checkRunPaths, type NamedPath } from '../output-paths';

const named = (option: string, path: string | undefined): NamedPath[] => (path === undefined ? [] : [{ option, path }]);

export function checkEvalPaths(args: ParsedArgs): void {
  const list = (name: string) => ((args.options[name] as string[] | undefined) ?? []).flatMap((p) => named(`--${name}`, p));
  checkRunPaths({
    inputs: [
      ...named('--data', stringOption(args, 'data')),
      ...named('--model', stringOption(args, 'model')),
      ...named('--models', stringOption(args, 'models')),
      ...named('--threshold-data', stringOption(args, 'threshold-data')),
      ...named('--source-data', stringOption(args, 'source-data')),
      ...list('fit-data'),
    ],
    outputs: [
      ...named('--json', stringOption(args, 'json')).map((p) => ({ ...p, replaces: true })),
      ...named('--montages', stringOption(args, 'montages')).map((p) => ({ ...p, kind: 'folder' as const })),
      ...named('--maps', stringOption(args, 'maps')).map((p) => ({ ...p, kind: 'folder' as const })),
    ],
  });
}
