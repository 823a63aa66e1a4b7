import type { Graph } from './graph.js';
import { numel } from './shape.js';

/**
 * Multiply-accumulates of a traced graph's convolutions and matrix products, the convention behind
 * the "GFLOPs" that SegFormer, SETR and mmseg's get_flops report (fvcore counts one MAC as one
 * flop). Element-wise ops, normalisation, pooling windows and resizes are not counted, as there.
 */
export function countMacs(g: Graph): { total: number; byOp: Record<string, number> } {
  const byOp: Record<string, number> = {};
  for (const n of g.nodes) {
    let macs = 0;
    if (n.op.name === 'Conv') {
      // every output element sums C/groups × kh × kw products
      const [, cg, kh, kw] = n.inputs[1]!.shape as number[];
      macs = numel(n.outputs[0]!.shape) * cg! * kh! * kw!;
    } else if (n.op.name === 'ConvTranspose') {
      // every input element scatters into Cout/groups × kh × kw outputs
      const [, og, kh, kw] = n.inputs[1]!.shape as number[];
      macs = numel(n.inputs[0]!.shape) * og! * kh! * kw!;
    } else if (n.op.name === 'MatMul') {
      const a = n.inputs[0]!.shape;
      macs = numel(n.outputs[0]!.shape) * a[a.length - 1]!;
    }
    if (macs) byOp[n.op.name] = (byOp[n.op.name] ?? 0) + macs;
  }
  return { total: Object.values(byOp).reduce((a, b) => a + b, 0), byOp };
}
