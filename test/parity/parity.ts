// Numerical parity with a PyTorch model written independently from architectures.md
// (test/parity/models/*.py): the reference writes random weights, an input and its outputs; segkit
// loads the same weights strictly (so the state-dict names must agree), runs the same input in eval
// mode and the outputs must agree to within `tol` of the output scale.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostTensor } from '../../src/engine/host-tensor.js';
import { nodeRuntime } from '../../src/engine/runtime/node.js';
import { readSafetensorsFile } from '../../src/io/safetensors-node.js';
import { compileModule } from '../../src/nn/compile.js';
import type { AnyModule } from '../../src/nn/module.js';
import { findTorchPython } from './python.js';

const REFERENCE = join(import.meta.dirname, 'reference.py');

export interface ReferenceRun {
  weights: Record<string, HostTensor>;
  input: HostTensor;
  outputs: Record<string, HostTensor>;
  dir: string;
}

/** Runs test/parity/reference.py; throws with python's stderr on failure. */
export async function runReference(model: string, options: object, shape: readonly number[], extra: string[] = []): Promise<ReferenceRun> {
  const py = findTorchPython();
  if (typeof py === 'string') throw new Error(`python3 with torch is not available (${py})`);
  const dir = await mkdtemp(join(tmpdir(), `segkit-parity-${model}-`));
  const r = spawnSync(py.python, [REFERENCE, model, JSON.stringify(options), shape.join('x'), dir, ...extra], { env: py.env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`reference.py ${model} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  const read = async (f: string) => {
    const st = await readSafetensorsFile(join(dir, f));
    return Object.fromEntries(st.names().map((n) => [n, st.get(n)]));
  };
  const weights = await read('weights.safetensors');
  const input = (await read('input.safetensors')).x!;
  return { weights, input, outputs: await read('output.safetensors'), dir };
}

export interface ParityResult {
  /** Per output: max |segkit − torch| and max |torch|. */
  diffs: Record<string, { maxAbs: number; scale: number; rel: number }>;
  worst: number;
}

/**
 * Loads the reference's weights into `model` (strict), runs it in eval mode on the reference input
 * and compares every output. `outputs` maps segkit's result to the reference's output names (by
 * default a single tensor is 'output' and a list is 'output_<i>').
 */
export async function checkParity(
  model: AnyModule,
  ref: { model: string; options: object; shape: readonly number[] },
  pick: (y: any) => Record<string, HostTensor> = defaultPick,
): Promise<ParityResult> {
  const run = await runReference(ref.model, ref.options, ref.shape);
  try {
    model.loadStateDict(run.weights);
    model.eval();
    const f = compileModule(model, { runtime: nodeRuntime });
    const got = pick(await f.run(run.input));
    await f.dispose();
    const diffs: ParityResult['diffs'] = {};
    for (const [name, want] of Object.entries(run.outputs)) {
      const y = got[name];
      if (!y) throw new Error(`segkit produced no output '${name}' (has ${Object.keys(got).join(', ')})`);
      if (y.shape.join('x') !== want.shape.join('x')) throw new Error(`output '${name}': segkit ${y.shape.join('x')}, torch ${want.shape.join('x')}`);
      let maxAbs = 0;
      let scale = 0;
      const a = y.f32;
      const b = want.f32;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i]! - b[i]!);
        if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
        scale = Math.max(scale, Math.abs(b[i]!));
      }
      diffs[name] = { maxAbs, scale, rel: maxAbs / Math.max(scale, 1e-12) };
    }
    return { diffs, worst: Math.max(...Object.values(diffs).map((d) => d.rel)) };
  } finally {
    await rm(run.dir, { recursive: true, force: true });
  }
}

function defaultPick(y: any): Record<string, HostTensor> {
  if (Array.isArray(y)) return Object.fromEntries(y.map((t, i) => [`output_${i}`, t]));
  if (y && typeof y === 'object' && 'shape' in y) return { output: y };
  return y;
}

/** The reason parity tests must skip, or null when torch is available. */
export function parityUnavailable(): string | null {
  const py = findTorchPython();
  return typeof py === 'string' ? `python3 with torch is not available (${py}); install python3-torch (Debian) to run PyTorch parity` : null;
}
