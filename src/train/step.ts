import { Rng } from '../data/rng.js';
import { grad } from '../engine/autodiff.js';
import { bernoulli } from '../engine/compile.js';
import { Graph } from '../engine/graph.js';
import { HostTensor } from '../engine/host-tensor.js';
import { writeOnnx } from '../engine/onnx/write.js';
import type { Parameter } from '../engine/parameter.js';
import type { Runtime, Session } from '../engine/runtime/runtime.js';
import { fmt } from '../engine/shape.js';
import { cat, Tensor } from '../engine/tensor.js';
import type { AnyModule } from '../nn/module.js';
import type { Optimizer, OptimizerState, ParamGroup } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedules.js';

/** A loss function: the scalar loss, plus any extra outputs to return (e.g. logits). */
export type LossFn<M extends AnyModule> = (model: M, ...batch: Tensor[]) => Tensor | ({ loss: Tensor } & Record<string, Tensor>);

export interface TrainStepOptions {
  runtime: Runtime;
  threads?: number;
  optimizer: Optimizer;
  /** Learning rate per iteration (0-based); the current value is an input of the step. */
  schedule: Schedule;
  /** Default: every trainable parameter in one group. */
  groups?: ParamGroup[];
  /** Clip gradients to this global L2 norm (torch.nn.utils.clip_grad_norm_). */
  clipGradNorm?: number;
  /** Seed of the dropout/drop-path masks. */
  seed?: number;
}

export interface StepResult {
  loss: number;
  lr: number;
  /** Extra outputs the loss function returned. */
  outputs: Record<string, HostTensor>;
}

/** A host tensor and its twin: inputs are read from one while outputs are written into the other. */
class PingPong {
  private other: HostTensor;
  constructor(public current: HostTensor) {
    this.other = HostTensor.zeros(current.shape, current.dtype);
  }
  /** The buffer the next step writes into. */
  get next(): HostTensor {
    return this.other;
  }
  swap(): void {
    [this.current, this.other] = [this.other, this.current];
  }
}

/** A parameter group's members and its optimizer state: one flat buffer per slot, members back to back. */
interface GroupState {
  members: [string, Parameter][];
  offsets: number[];
  total: number;
  slots: Record<string, PingPong>;
}

interface Built {
  model: Uint8Array;
  batchNames: string[];
  extraNames: string[];
  maskShapes: { name: string; shape: number[]; keepProb: number }[];
}

type Compiled = Omit<Built, 'model'> & { session: Session };

/**
 * forward + loss + backward + optimizer update compiled into one onnxruntime session (one per
 * batch shape). Parameters, buffers and optimizer state stay in host buffers between steps and
 * are fed as inputs; the step writes their new values into twin buffers, then the two swap — no
 * allocation per step. Parameter objects are updated in place (their `value` points at the
 * current buffer), so the model can be evaluated or saved at any time.
 */
export class TrainStep<M extends AnyModule> {
  /** Steps taken so far (the schedule is evaluated at this index). */
  iteration = 0;
  private readonly cache = new Map<string, Promise<Compiled>>();
  private readonly params: [string, Parameter][];
  private readonly buffers: [string, Parameter][];
  /** Trainable parameters outside every group: inputs of the step, never updated. */
  private readonly frozen: [string, Parameter][];
  private readonly groupOf = new Map<Parameter, ParamGroup>();
  private readonly values = new Map<Parameter, PingPong>();
  /** Optimizer state, one flat buffer per group and slot (see GroupState). */
  private readonly groupStates: GroupState[];
  private readonly rng: Rng;
  /** What the last step swapped (parameter or null for optimizer state), for revertLastStep. */
  private swapped: [PingPong, Parameter | null][] = [];

  constructor(
    readonly model: M,
    private readonly lossFn: LossFn<M>,
    private readonly o: TrainStepOptions,
  ) {
    const groups = o.groups ?? [{ params: model.parameters() }];
    for (const g of groups) for (const p of g.params) this.groupOf.set(p, g);
    this.params = model.namedParameters().filter(([, p]) => this.groupOf.has(p));
    this.buffers = model.namedBuffers().filter(([, p]) => p.value.dtype === 'float32');
    this.frozen = model.namedParameters().filter(([, p]) => !this.groupOf.has(p));
    for (const [, p] of [...this.params, ...this.buffers]) this.values.set(p, new PingPong(p.value));
    this.groupStates = groups.map((group) => {
      const members = this.params.filter(([, p]) => this.groupOf.get(p) === group);
      const offsets: number[] = [];
      let total = 0;
      for (const [, p] of members) {
        offsets.push(total);
        total += p.value.size;
      }
      return { members, offsets, total, slots: Object.fromEntries(o.optimizer.slots.map((s) => [s, new PingPong(HostTensor.zeros([total]))])) };
    });
    this.rng = new Rng(o.seed ?? 0);
  }

  /** Current learning rate (of a group with multiplier 1). */
  get lr(): number {
    return this.o.schedule(this.iteration);
  }

  private build(batch: readonly HostTensor[]): Built {
    const { model, o } = this;
    model.train();
    const g = new Graph('input').nameParameters(model.namedState());
    const inputs = batch.map((b, i) => g.input(`batch_${i}`, b.shape, b.dtype));
    const lr = g.input('lr', [], 'float32');
    const scalarNames = Object.keys(o.optimizer.scalars(1));
    const scalars = Object.fromEntries(scalarNames.map((k) => [k, g.input(`opt_${k}`, [], 'float32')]));
    // Every parameter and buffer is an input, used or not, so the feeds are the same for every step.
    for (const [, p] of [...this.params, ...this.buffers, ...this.frozen]) g.param(p);
    const result = this.lossFn(model, ...inputs);
    const { loss, ...extras } = result instanceof Tensor ? { loss: result } : result;
    if (loss.size !== 1) throw new Error(`train step: the loss must be a scalar, got ${loss}`);
    const paramTensors = this.params.map(([, p]) => g.param(p));
    const grads = new Map<Parameter, Tensor | null>();
    grad(loss, paramTensors).forEach((gr, i) => grads.set(this.params[i]![1], gr));

    // Each group is updated as one flat vector: a handful of element-wise ops per group instead of
    // per parameter (a ResNet has ~200 parameter tensors; per-tensor updates cost thousands of
    // tiny kernels per step and seconds of session creation).
    const flat = (ts: Tensor[]) => cat(ts.map((t) => t.reshape([-1])), 0);
    const live = this.groupStates.filter((gs) => gs.members.length > 0);
    const flatGrads = live.map((gs) => flat(gs.members.map(([, p]) => grads.get(p) ?? g.param(p).mul(0))));
    if (o.clipGradNorm !== undefined) {
      const norm = flatGrads.map((x) => x.mul(x).sum()).reduce((a, b) => a.add(b)).sqrt();
      const factor = g.scalar(o.clipGradNorm).div(norm.add(1e-6)).minimum(1);
      flatGrads.forEach((x, i) => (flatGrads[i] = x.mul(factor)));
    }

    const outputs: Record<string, Tensor> = { loss: loss.reshape([]) };
    for (const [k, t] of Object.entries(extras)) outputs[`extra.${k}`] = t as Tensor;
    live.forEach((gs, i) => {
      const gi = this.groupStates.indexOf(gs);
      const group = this.groupOf.get(gs.members[0]![1])!;
      const param = flat(gs.members.map(([, p]) => g.param(p)));
      const state = Object.fromEntries(o.optimizer.slots.map((s) => [s, g.input(`state.group${gi}.${s}`, [gs.total])]));
      const up = o.optimizer.update({
        param,
        grad: flatGrads[i]!,
        state,
        lr: group.lrMult && group.lrMult !== 1 ? lr.mul(group.lrMult) : lr,
        weightDecay: group.weightDecay ?? o.optimizer.weightDecay,
        scalars,
      });
      let newParam = up.param;
      const newState = { ...up.state };
      // PyTorch skips parameters without a gradient (no decay, no momentum): keep their segments.
      const hasGrad = gs.members.map(([, p]) => grads.get(p) !== null);
      if (!hasGrad.every(Boolean)) {
        // The keep-mask as runs of equal flags (parameters without gradients are usually whole
        // unused heads, so a few runs), each a broadcast scalar: no parameter-sized constant.
        const runs: [boolean, number][] = [];
        gs.members.forEach(([, p], k) => {
          const last = runs.at(-1);
          if (last && last[0] === hasGrad[k]) last[1] += p.value.size;
          else runs.push([hasGrad[k]!, p.value.size]);
        });
        const keep = cat(runs.map(([flag, n]) => g.scalar(flag ? 1 : 0, 'bool').reshape([1]).expand([n])), 0);
        newParam = newParam.where(keep, param);
        for (const s of Object.keys(newState)) newState[s] = newState[s]!.where(keep, state[s]!);
      }
      for (const [s, t] of Object.entries(newState)) outputs[`newstate.group${gi}.${s}`] = t;
      const pieces = gs.members.length === 1 ? [newParam] : newParam.split(gs.members.map(([, p]) => p.value.size), 0);
      gs.members.forEach(([name, p], k) => (outputs[`new.${name}`] = pieces[k]!.reshape(p.shape)));
    });
    for (const [name, p] of this.buffers) {
      const u = g.updates.get(p);
      if (u) outputs[`new.${name}`] = u;
    }
    return {
      model: writeOnnx(g, outputs),
      batchNames: inputs.map((t) => t.name!),
      extraNames: Object.keys(extras),
      maskShapes: g.masks.map((m) => ({ name: m.tensor.name!, shape: m.tensor.shape, keepProb: m.keepProb })),
    };
  }

  private async compiled(batch: readonly HostTensor[]): Promise<Compiled> {
    const key = batch.map((b) => `${b.dtype}${fmt(b.shape)}`).join(';');
    let c = this.cache.get(key);
    if (!c) {
      const { model, ...rest } = this.build(batch);
      c = this.o.runtime.createSession(model, { threads: this.o.threads }).then((session) => ({ ...rest, session }));
      this.cache.set(key, c);
    }
    return c;
  }

  /** One optimisation step on a batch; returns the loss (before the update) and the learning rate used. */
  async step(...batch: HostTensor[]): Promise<StepResult> {
    const c = await this.compiled(batch);
    const lr = this.lr;
    const feeds: Record<string, HostTensor> = { lr: new HostTensor(new Float32Array([lr]), []) };
    c.batchNames.forEach((n, i) => (feeds[n] = batch[i]!));
    for (const [k, v] of Object.entries(this.o.optimizer.scalars(this.iteration + 1))) feeds[`opt_${k}`] = new HostTensor(new Float32Array([v]), []);
    const pre: Record<string, HostTensor> = {};
    for (const [name, p] of this.frozen) feeds[name] = p.value;
    for (const [name, p] of [...this.params, ...this.buffers]) {
      const pp = this.values.get(p)!;
      // The value was replaced since the last step (loadStateDict, a resume): take it over.
      if (p.value !== pp.current) {
        pp.current.data.set(p.value.data as never);
        p.set(pp.current);
      }
      feeds[name] = pp.current;
      pre[`new.${name}`] = pp.next;
    }
    this.groupStates.forEach((gs, i) => {
      for (const [s, pp] of Object.entries(gs.slots)) {
        feeds[`state.group${i}.${s}`] = pp.current;
        pre[`newstate.group${i}.${s}`] = pp.next;
      }
    });
    // Masks from (seed, iteration) only: a resumed run draws the same masks as an uninterrupted one.
    const rng = this.rng.fork(this.iteration);
    for (const m of c.maskShapes) feeds[m.name] = bernoulli(rng, m.shape, m.keepProb);
    const outNames = new Set(c.session.outputNames);
    for (const k of Object.keys(pre)) if (!outNames.has(k)) delete pre[k];
    const out = await c.session.run(feeds, pre);
    // Swap what was written; keep parameters' values pointing at their current buffers. The
    // previous values stay in the twins until the next step, so revertLastStep() can swap back.
    this.swapped = [];
    for (const [name, p] of [...this.params, ...this.buffers]) {
      if (!outNames.has(`new.${name}`)) continue;
      const pp = this.values.get(p)!;
      pp.swap();
      p.set(pp.current);
      this.swapped.push([pp, p]);
    }
    this.groupStates.forEach((gs, i) => {
      for (const [s, pp] of Object.entries(gs.slots)) {
        if (!outNames.has(`newstate.group${i}.${s}`)) continue;
        pp.swap();
        this.swapped.push([pp, null]);
      }
    });
    this.iteration++;
    const outputs = Object.fromEntries(c.extraNames.map((k) => [k, out[`extra.${k}`]!]));
    return { loss: out.loss!.f32[0]!, lr, outputs };
  }

  /**
   * Undoes the last step's update of parameters, buffers and optimizer state (their previous values
   * are still in the twin buffers): how a trainer skips a batch whose loss was not finite. The
   * iteration count is kept, so the schedule and the data order go on as if the batch was used.
   * Only the last step can be reverted, once.
   */
  revertLastStep(): void {
    if (this.swapped.length === 0) throw new Error('TrainStep.revertLastStep: no step to revert (none taken since the last revert)');
    for (const [pp, p] of this.swapped) {
      pp.swap();
      p?.set(pp.current);
    }
    this.swapped = [];
  }

  /**
   * Optimizer state by `<param name>.<slot>` (for checkpoints), shaped like each parameter. The
   * tensors are views of the step's buffers: serialise or copy them before the next step.
   */
  optimizerState(): Record<string, HostTensor> {
    const sd: Record<string, HostTensor> = {};
    for (const gs of this.groupStates) {
      gs.members.forEach(([name, p], k) => {
        const at = gs.offsets[k]!;
        for (const [s, pp] of Object.entries(gs.slots)) sd[`${name}.${s}`] = new HostTensor(pp.current.f32.subarray(at, at + p.value.size), p.shape);
      });
    }
    return sd;
  }

  /**
   * Restores optimizer state saved by optimizerState() (resuming a run). Keys and shapes must match
   * exactly; an error lists the differences. Set `iteration` as well so the schedule continues.
   */
  loadOptimizerState(sd: Record<string, HostTensor>): void {
    const own = this.optimizerState();
    const missing = Object.keys(own).filter((k) => !(k in sd));
    const unexpected = Object.keys(sd).filter((k) => !(k in own));
    const mismatched = Object.keys(own).filter((k) => k in sd && fmt(sd[k]!.shape) !== fmt(own[k]!.shape)).map((k) => `${k}: saved ${fmt(sd[k]!.shape)}, model ${fmt(own[k]!.shape)}`);
    if (missing.length || unexpected.length || mismatched.length) {
      const list = (what: string, ks: string[]) => (ks.length ? `\n  ${what} (${ks.length}): ${ks.slice(0, 20).join(', ')}${ks.length > 20 ? ', …' : ''}` : '');
      throw new Error(`optimizer state does not match this model and optimizer${list('missing', missing)}${list('unexpected', unexpected)}${list('shape mismatch', mismatched)}`);
    }
    for (const gs of this.groupStates) {
      gs.members.forEach(([name], k) => {
        for (const [s, pp] of Object.entries(gs.slots)) pp.current.f32.set(sd[`${name}.${s}`]!.f32, gs.offsets[k]);
      });
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const c of all) await (await c).session.release();
  }
}

/** Compiles forward + loss + backward + update of `model` into reusable sessions. */
export function compileTrainStep<M extends AnyModule>(model: M, lossFn: LossFn<M>, o: TrainStepOptions): TrainStep<M> {
  return new TrainStep(model, lossFn, o);
}
