/**
 * Dead-code removal on an ONNX graph: nodes none of whose outputs reach a graph output, then the
 * initializers and value_info entries nothing refers to any more (BatchNorm parameters after
 * folding, a replaced float32 weight after float16/int8 conversion). Graph inputs stay: they are
 * the model's signature.
 */
import type { OnnxModel } from './onnx-model.js';

export interface PruneReport {
  nodes: number;
  initializers: number;
}

export function pruneDeadNodes(m: OnnxModel): PruneReport {
  const g = m.graph;
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const live = new Set<number>();
  const stack = g.outputs.map((o) => producer.get(o.name)).filter((i): i is number => i !== undefined);
  while (stack.length) {
    const i = stack.pop()!;
    if (live.has(i)) continue;
    live.add(i);
    for (const x of g.nodes[i]!.inputs) {
      const p = producer.get(x);
      if (p !== undefined && !live.has(p)) stack.push(p);
    }
  }
  const before = { nodes: g.nodes.length, initializers: g.initializers.length };
  g.nodes = g.nodes.filter((_, i) => live.has(i));
  const used = new Set<string>(g.outputs.map((o) => o.name));
  const produced = new Set<string>();
  for (const n of g.nodes) {
    for (const x of n.inputs) used.add(x);
    for (const o of n.outputs) produced.add(o);
  }
  g.initializers = g.initializers.filter((t) => used.has(t.name));
  g.valueInfo = g.valueInfo.filter((v) => produced.has(v.name));
  return { nodes: before.nodes - g.nodes.length, initializers: before.initializers - g.initializers.length };
}
