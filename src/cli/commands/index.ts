import type { Command } from '../command.js';

/** Every `segkit` command, in the order `segkit --help` lists them. */
export const commands: Command[] = [];
