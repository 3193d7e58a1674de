// Every benchmark `npm run bench -- NAME` can run.
import type { Benchmark } from '../harness';
import { ceilings } from './ceilings';
import { conv3d } from './conv3d';
import { nearest } from './nearest';
import { predict } from './predict';
import { train } from './train';

export const benchmarks: Benchmark[] = [ceilings, conv3d, nearest, predict, train];
