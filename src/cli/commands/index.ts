import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { benchmarkCommand } from './benchmark.js';
import { predictCommand } from './predict.js';
import { exportCommand } from './export.js';
import { dataBrowseCommand, dataStatsCommand, prepareCityscapesCommand } from './data.js';

/** Every `segkit` command, in the order `segkit --help` lists them. */
export const commands: Command[] = [dataStatsCommand, dataBrowseCommand, prepareCityscapesCommand, trainCommand, evalCommand, predictCommand, benchmarkCommand, exportCommand, convertCommand];
