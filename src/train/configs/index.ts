/** The built-in training configs by name (`segkit train <name>`, `segkit train --list`). */
import type { TrainConfig } from '../config.js';
import { portraitConfigs } from './portrait.js';
import { s2fpnConfigs } from './s2fpn.js';
import { segformerConfigs } from './segformer.js';
import { sernetFormerConfigs } from './sernet-former.js';
import { setrConfigs } from './setr.js';

export const BUILTIN_CONFIGS: Record<string, TrainConfig> = Object.fromEntries(
  [...s2fpnConfigs, ...segformerConfigs, ...setrConfigs, ...sernetFormerConfigs, ...portraitConfigs].map((c) => [c.name, c]),
);

export const listConfigs = (): TrainConfig[] => Object.values(BUILTIN_CONFIGS);
