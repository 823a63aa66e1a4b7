import type { SegmentationModel } from './segmentation-model.js';

/** One constructor option of a registered model, described so errors can list what is valid. */
export interface OptionSpec {
  type: 'number' | 'boolean' | 'string' | 'number[]';
  default?: unknown;
  /** Valid values for a string option. */
  choices?: readonly string[];
  doc: string;
}

/**
 * A model family in the registry. Every family accepts `numClasses` and `inChannels`; families
 * with sizes or swappable encoders name them `encoder` (e.g. 'mit-b0', 'resnet18', 'vit-b16') and
 * families with several versions or decoders name them `variant` (e.g. S2-FPN 'v1' | 'v2',
 * SETR 'naive' | 'pup' | 'mla'), so the same option names work across the zoo.
 */
export interface ModelEntry {
  name: string;
  description: string;
  /** Extra options beyond numClasses and inChannels. */
  options: Record<string, OptionSpec>;
  create(options: Record<string, unknown> & { numClasses: number; inChannels: number }): SegmentationModel;
  experimental?: boolean;
}

const COMMON: Record<string, OptionSpec> = {
  numClasses: { type: 'number', doc: 'number of output classes (logit channels)' },
  inChannels: { type: 'number', default: 3, doc: 'input image channels' },
};

export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();

  register(e: ModelEntry): void {
    if (this.entries.has(e.name)) throw new Error(`model '${e.name}' is registered twice`);
    for (const k of Object.keys(COMMON)) if (k in e.options) throw new Error(`model '${e.name}': option '${k}' is common to every model; do not redeclare it`);
    this.entries.set(e.name, e);
  }

  list(): { name: string; description: string; experimental: boolean; options: Record<string, OptionSpec> }[] {
    return [...this.entries.values()].map((e) => ({ name: e.name, description: e.description, experimental: !!e.experimental, options: { ...COMMON, ...e.options } }));
  }

  get(name: string): ModelEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`unknown model '${name}'; valid models: ${[...this.entries.keys()].join(', ')}`);
    return e;
  }

  create(name: string, options: Record<string, unknown> = {}): SegmentationModel {
    const e = this.get(name);
    const specs = { ...COMMON, ...e.options };
    const describe = () => Object.entries(specs).map(([k, s]) => `  ${k} (${s.type}${s.choices ? `: ${s.choices.join(' | ')}` : ''}${s.default !== undefined ? `, default ${JSON.stringify(s.default)}` : ''}): ${s.doc}`).join('\n');
    const unknown = Object.keys(options).filter((k) => !(k in specs));
    if (unknown.length) throw new Error(`model '${name}': unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; valid options:\n${describe()}`);
    const resolved: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(specs)) {
      const v = options[k] === undefined ? s.default : options[k];
      if (v === undefined) throw new Error(`model '${name}': option '${k}' is required (${s.doc}); valid options:\n${describe()}`);
      const ok =
        s.type === 'number[]' ? Array.isArray(v) && v.every((x) => typeof x === 'number') : s.type === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === s.type;
      if (!ok) throw new Error(`model '${name}': option '${k}' must be a ${s.type}, got ${JSON.stringify(v)}`);
      if (s.choices && !s.choices.includes(v as string)) throw new Error(`model '${name}': option '${k}' must be one of ${s.choices.join(', ')}, got '${String(v)}'`);
      resolved[k] = v;
    }
    const n = resolved.numClasses as number;
    if (!Number.isInteger(n) || n < 1) throw new Error(`model '${name}': numClasses must be a positive integer, got ${n}`);
    return e.create(resolved as Record<string, unknown> & { numClasses: number; inChannels: number });
  }
}
