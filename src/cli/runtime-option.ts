// --runtime node|chromium of `train` and `predict`: where the GPU work runs. node (the default) is
// Dawn in this process (the `webgpu` package); chromium is headless Chromium's WebGPU, driven by this
// process (chromium/runtime.node.ts), for machines where Dawn's addon cannot run or only a browser
// may use the GPU. Either way the files are read and written here, the same way.
import type { Runtime } from '../gpu/runtime';
import { adapterName } from '../gpu/adapter';
import { nodeRuntime } from '../gpu/node';
import { stringOption, UsageError, type OptionSpec, type ParsedArgs } from './args';
import { ChromiumRuntime } from './chromium/runtime.node';

export const RUNTIMES = ['node', 'chromium'] as const;
export type RuntimeKind = (typeof RUNTIMES)[number];

/** --runtime R of the commands that run on the GPU, for their option specs. */
export const RUNTIME_OPTION = {
  runtime: {
    type: 'string',
    value: 'R',
    description:
      'where the GPU work runs: node (WebGPU through Dawn in this process) or chromium (headless Chromium\'s WebGPU: ' +
      '/usr/bin/chromium or $CHROMIUM_PATH)',
    default: 'node',
  },
} as const satisfies Record<string, OptionSpec>;

export function runtimeOption(args: ParsedArgs): RuntimeKind {
  const value = stringOption(args, 'runtime') ?? RUNTIME_OPTION.runtime.default;
  if (!(RUNTIMES as readonly string[]).includes(value)) throw new UsageError(`--runtime must be ${RUNTIMES.join(' or ')}, got "${value}"`);
  return value as RuntimeKind;
}

/**
 * Opens the runtime asked for, runs `work` on it with a line naming the adapter, and closes it whatever
 * happens: a Dawn device in this process, or a headless Chromium with its page.
 */
export async function withRuntime<T>(
  kind: RuntimeKind,
  work: {
    node(runtime: Runtime, adapter: string): Promise<T>;
    chromium(runtime: ChromiumRuntime, adapter: string): Promise<T>;
  },
): Promise<T> {
  if (kind === 'chromium') {
    const chromium = await ChromiumRuntime.start();
    try {
      const a = chromium.adapter;
      return await work.chromium(chromium, `${a.text}${a.software ? ' (software)' : ''}, in headless Chromium`);
    } finally {
      await chromium.close();
    }
  }
  const runtime = await nodeRuntime();
  try {
    const a = runtime.adapter;
    return await work.node(runtime, `${adapterName(a)}${a.software ? ' (software)' : ''}`);
  } finally {
    runtime.dispose();
  }
}
