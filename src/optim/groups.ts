import type { AnyModule } from '../nn/module.js';
import type { ParamGroup } from './optimizer.js';

export interface GroupRules {
  /** Parameters whose dotted name starts with one of these get `headLrMult` (e.g. 'decode_head.'). */
  headPrefixes?: string[];
  headLrMult?: number;
  /** No weight decay on 1-D parameters (norm weights and biases) — SegFormer's and timm's rule. */
  noDecayOnNormsAndBiases?: boolean;
}

/** Splits a model's trainable parameters into groups by the usual rules (head ×lr, no decay on norms/biases). */
export function paramGroups(model: AnyModule, rules: GroupRules = {}): ParamGroup[] {
  const buckets = new Map<string, ParamGroup>();
  for (const [name, p] of model.namedParameters()) {
    const head = (rules.headPrefixes ?? []).some((s) => name.startsWith(s));
    const noDecay = (rules.noDecayOnNormsAndBiases ?? false) && p.shape.length <= 1;
    const key = `${head}:${noDecay}`;
    let g = buckets.get(key);
    if (!g) {
      g = { params: [], ...(head ? { lrMult: rules.headLrMult ?? 10 } : {}), ...(noDecay ? { weightDecay: 0 } : {}) };
      buckets.set(key, g);
    }
    g.params.push(p);
  }
  return [...buckets.values()];
}
