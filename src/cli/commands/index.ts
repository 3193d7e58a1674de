// Every sub-command of `screener`, in the order `screener --help` lists them.
import type { Command } from '../command';
import { doctor } from './doctor';
import { info } from './info';
import { phantom } from './phantom';
import { scanData } from './scan-data';
import { train } from './train';
import { predict } from './predict';
import { configure } from './configure';
import { evaluate } from './eval';
import { rankDescriptors } from './rank-descriptors';
import { demo } from './demo';
import { insertLesionsCommand } from './insert-lesions';
import { serve } from './serve';

export const commands: Command[] = [doctor, info, phantom, insertLesionsCommand, scanData, train, configure, predict, evaluate, rankDescriptors, demo, serve];
