// Every sub-command of `screener`, in the order `screener --help` lists them.
import type { Command } from '../command';
import { doctor } from './doctor';

export const commands: Command[] = [doctor];
