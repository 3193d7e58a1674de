// Every benchmark `npm run bench -- NAME` can run.
import type { Benchmark } from '../harness';
import { ceilings } from './ceilings';

export const benchmarks: Benchmark[] = [ceilings];
