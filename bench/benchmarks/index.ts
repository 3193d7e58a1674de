// Every benchmark `npm run bench -- NAME` can run.
import type { Benchmark } from '../harness';
import { ceilings } from './ceilings';
import { predict } from './predict';
import { train } from './train';

export const benchmarks: Benchmark[] = [ceilings, predict, train];
