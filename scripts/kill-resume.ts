// Crash-safety of `segkit train`: SIGKILL a short training job at random moments and resume it until
// it completes, checking after every kill that no checkpoint is half-written and that the resume
// starts from the checkpoint `last_checkpoint` names; at the end the loss curve must equal an
// uninterrupted reference run's. CI runs a short fixed set: test/robustness/kill-resume.test.ts.
// Usage: npx tsx scripts/kill-resume.ts [--runs 20] [--seed S] [--iters 24] [--max-kills 3]
// Prints one table row per run and every failure; exits 1 when anything failed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { REPO, tempDir, tinyTrainConfig, writeBandsDataset } from '../test/data/helpers.js';
import { Rng } from '../test/robustness/mutate.js';

const SEGKIT = join(REPO, 'bin', 'segkit.js');
/** The hidden temporary files of src/io/atomic-file.ts: `.<name>.<pid>.<rand>.tmp`. */
const TMP_FILE = /^\..+\.\d+\.[0-9a-f]+\.tmp$/;

/** Options of {@link killResume}. */
export interface KillResumeOptions {
  /** Interrupted runs (each killed at least once, then resumed until it completes). */
  runs: number;
  /** Seeds the kill moments and kill counts; the training itself always uses seed 3. */
  seed: number;
  /** Training iterations of the job (4 per epoch: 8 images, batch 2). */
  iters: number;
  /** Most kills per run (each run draws 1..maxKills); default 3. */
  maxKills?: number;
  /** Iterations between checkpoints; default 2, so many kills land during a checkpoint write. */
  checkpointInterval?: number;
  /** Iterations between validations (each may write a best_* checkpoint); default 8. */
  valInterval?: number;
  /**
   * Where kill moments are drawn from: 'whole' (default) is uniform over the reference run's wall time,
   * start-up included; 'after-first-checkpoint' starts the window when the reference run's first
   * `last_checkpoint` appeared, and times a fresh start's kill from its own first `last_checkpoint`,
   * so every first kill of a run finds a checkpoint to resume from.
   */
  window?: 'whole' | 'after-first-checkpoint';
  /** Progress lines (one per process started); default silent. */
  log?: (line: string) => void;
}

/** What happened to one interrupted run. */
export interface RunReport {
  run: number;
  /** Seconds after its start at which each killed process was killed. */
  killMoments: number[];
  /** `--resume` invocations that found a checkpoint. */
  resumes: number;
  /** `--resume` invocations refused with "no checkpoint" (then the run was started afresh). */
  freshRestarts: number;
  /** What `last_checkpoint` named after each kill (null: none yet). */
  checkpointsSeen: (string | null)[];
  /** Temporary files left in the work dir (name and bytes), each once, found after kills or at the end. */
  tmpLeftovers: { name: string; bytes: number }[];
  /** Largest relative difference of the final loss curve from the reference's. */
  maxRelDiff: number;
  curveEqual: boolean;
  failures: string[];
}

/** The outcome of {@link killResume}. */
export interface KillResumeReport {
  /** Wall time of the uninterrupted reference run. */
  referenceSeconds: number;
  /** Seconds into the reference run when `last_checkpoint` first appeared. */
  firstCheckpointSeconds: number;
  /** The window kill moments were drawn from, in seconds after a process starts. */
  window: [number, number];
  runs: RunReport[];
  failures: string[];
}

/** The tiny job of test/train/trainer.test.ts, with `iters` and the intervals set. */
const jobConfig = (root: string, iters: number, checkpointInterval: number, valInterval: number): object =>
  tinyTrainConfig(root, { iters, valInterval, checkpointInterval }, 'kill_resume_segformer_synthetic');

interface Exit {
  code: number | null;
  killed: boolean;
  stderr: string;
  seconds: number;
}

/**
 * Runs `segkit train`, SIGKILLing it `killAfter` seconds after the spawn (null: never). With
 * `firstCheckpoint` (a fresh start in the 'after-first-checkpoint' window) the clock starts when
 * this run's own `last_checkpoint` appears, `killAfter − firstCheckpoint` seconds before the kill:
 * a process that starts slower than the reference (a loaded machine) still has a checkpoint.
 */
function train(cfgPath: string, workDir: string, resume: boolean, killAfter: number | null, timeout: number, firstCheckpoint?: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const args = [SEGKIT, 'train', cfgPath, '--work-dir', workDir, ...(resume ? ['--resume'] : [])];
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env: { ...process.env, SEGKIT_ORT_SPIN: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    let killed = false;
    let kill: NodeJS.Timeout | undefined;
    let waitForCheckpoint: NodeJS.Timeout | undefined;
    const armKill = (seconds: number) => (kill = setTimeout(() => (killed = child.kill('SIGKILL')), seconds * 1000));
    if (killAfter !== null && firstCheckpoint === undefined) armKill(killAfter);
    else if (killAfter !== null) {
      waitForCheckpoint = setInterval(() => {
        if (!existsSync(join(workDir, 'last_checkpoint'))) return;
        clearInterval(waitForCheckpoint);
        armKill(Math.max(0, killAfter - firstCheckpoint!));
      }, 10);
    }
    // A hung trainer is a failure, not a stuck script.
    const guard = setTimeout(() => child.kill('SIGKILL'), timeout * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(waitForCheckpoint);
      clearTimeout(kill);
      clearTimeout(guard);
      resolve({ code, killed: killed && signal === 'SIGKILL', stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** The state of a work dir after a kill, and every way it is not crash-safe. */
export interface WorkDirCheck {
  /** The file `last_checkpoint` names, or null when there is no `last_checkpoint`. */
  latest: string | null;
  tmp: { name: string; bytes: number }[];
  failures: string[];
}

/**
 * Checks a work dir as a crash leaves it: every `*.safetensors` parses completely as a checkpoint whose
 * iteration matches its file name, and `last_checkpoint` names one of them. Temporary files are listed.
 */
export async function checkWorkDir(dir: string): Promise<WorkDirCheck> {
  const out: WorkDirCheck = { latest: null, tmp: [], failures: [] };
  if (!existsSync(dir)) return out;
  const files = readdirSync(dir).sort();
  for (const f of files) {
    if (TMP_FILE.test(f)) out.tmp.push({ name: f, bytes: statSync(join(dir, f)).size });
    if (!f.endsWith('.safetensors')) continue;
    try {
      const c = await loadCheckpoint(join(dir, f));
      const n = /_(\d+)\.safetensors$/.exec(f);
      if (n && Number(n[1]) !== c.meta.iteration) out.failures.push(`${f}: holds iteration ${c.meta.iteration}, its name says ${n[1]}`);
    } catch (e) {
      out.failures.push(`${f} (${statSync(join(dir, f)).size} bytes) does not parse: ${(e as Error).message}`);
    }
  }
  if (existsSync(join(dir, 'last_checkpoint'))) {
    const name = readFileSync(join(dir, 'last_checkpoint'), 'utf8').trim();
    out.latest = name;
    if (!/^iter_\d+\.safetensors$/.test(name)) out.failures.push(`last_checkpoint holds ${JSON.stringify(name)}, expected iter_<N>.safetensors`);
    else if (!files.includes(name)) out.failures.push(`last_checkpoint names ${name}, which does not exist (files: ${files.join(', ')})`);
  }
  return out;
}

type Scalars = Record<string, number>[];
const readScalars = (dir: string): Scalars =>
  readFileSync(join(dir, 'scalars.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number>);

/**
 * Compares a run's scalars with the reference's: the same iterations, each once, for the loss and for
 * validation, and losses and mIoU equal to `tol` relative. Returns the failures and the largest
 * relative loss difference.
 */
export function compareScalars(got: Scalars, want: Scalars, tol = 1e-6): { failures: string[]; maxRelDiff: number } {
  const failures: string[] = [];
  let maxRelDiff = 0;
  for (const key of ['loss', 'val/mIoU']) {
    const g = got.filter((r) => r[key] !== undefined);
    const w = want.filter((r) => r[key] !== undefined);
    const gi = g.map((r) => r.iter).join(',');
    const wi = w.map((r) => r.iter).join(',');
    if (gi !== wi) {
      failures.push(`${key} logged at iterations [${gi}], the reference at [${wi}]`);
      continue;
    }
    g.forEach((r, j) => {
      const a = r[key]!;
      const b = w[j]![key]!;
      const rel = Math.abs(a - b) / Math.abs(b);
      if (key === 'loss') maxRelDiff = Math.max(maxRelDiff, rel);
      if (!(rel <= tol)) failures.push(`iteration ${r.iter}: ${key} ${a}, reference ${b} (relative difference ${rel.toExponential(2)})`);
    });
  }
  return { failures, maxRelDiff };
}

/** Records temporary files not seen before in this run (they persist from kill to kill). */
function addTmp(r: RunReport, found: { name: string; bytes: number }[]): void {
  for (const t of found) if (!r.tmpLeftovers.some((x) => x.name === t.name)) r.tmpLeftovers.push(t);
}

/** The `resumed from <file> at iteration <N>` lines of a log text. */
const resumeLines = (log: string): string[] => log.split('\n').filter((l) => /resumed from /.test(l));
const readLog = (dir: string): string => (existsSync(join(dir, 'log.txt')) ? readFileSync(join(dir, 'log.txt'), 'utf8') : '');

/**
 * Trains an uninterrupted reference run, then `runs` runs each SIGKILLed 1..maxKills times at seeded
 * moments uniform over the reference's wall time and resumed (or restarted, when no checkpoint exists
 * yet) until complete, checking the work dir after every kill and the scalars at the end.
 */
export async function killResume(o: KillResumeOptions): Promise<KillResumeReport> {
  const maxKills = o.maxKills ?? 3;
  for (const [k, v] of Object.entries({ runs: o.runs, iters: o.iters, maxKills })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} ${v}: expected a positive integer`);
  }
  const log = o.log ?? (() => {});
  const tmp = tempDir('segkit-kill-resume-');
  try {
    const root = join(tmp.dir, 'data');
    await writeBandsDataset(root);
    const cfgPath = join(tmp.dir, 'job.json');
    writeFileSync(cfgPath, JSON.stringify(jobConfig(root, o.iters, o.checkpointInterval ?? 2, o.valInterval ?? 8)));

    const refDir = join(tmp.dir, 'ref');
    const t0 = performance.now();
    let firstCheckpoint = NaN;
    const poll = setInterval(() => {
      if (Number.isNaN(firstCheckpoint) && existsSync(join(refDir, 'last_checkpoint'))) firstCheckpoint = (performance.now() - t0) / 1000;
    }, 10);
    const ref = await train(cfgPath, refDir, false, null, 600).finally(() => clearInterval(poll));
    if (ref.code !== 0) throw new Error(`the reference run failed (exit ${ref.code}):\n${ref.stderr}`);
    const want = readScalars(refDir);
    const T = ref.seconds;
    if (Number.isNaN(firstCheckpoint)) throw new Error(`the reference run wrote no last_checkpoint while it ran (${T.toFixed(1)} s)`);
    const from = o.window === 'after-first-checkpoint' ? firstCheckpoint : 0;
    log(`reference run: ${T.toFixed(1)} s, first checkpoint at ${firstCheckpoint.toFixed(1)} s; kills drawn from [${from.toFixed(1)}, ${T.toFixed(1)}) s`);
    // Generous: a loaded machine may run a resumed job several times slower than the reference.
    const timeout = 10 * T + 60;

    const reports: RunReport[] = [];
    for (let run = 1; run <= o.runs; run++) {
      const rng = new Rng((o.seed ^ Math.imul(run, 0x9e3779b1)) >>> 0);
      const kills = 1 + rng.below(maxKills);
      const dir = join(tmp.dir, `run${run}`);
      const r: RunReport = { run, killMoments: [], resumes: 0, freshRestarts: 0, checkpointsSeen: [], tmpLeftovers: [], maxRelDiff: NaN, curveEqual: false, failures: [] };
      let resume = false;
      let done = false;
      // The end of the kill window; narrowed when a run outpaces the reference and ends before its first kill.
      let until = T;
      let outpaced = 0;
      while (!done && r.failures.length === 0) {
        if (resume) {
          const check = await checkWorkDir(dir);
          if (check.latest === null) {
            // A user's --resume before the first checkpoint: a clear refusal, then a fresh start.
            const refused = await train(cfgPath, dir, true, null, timeout);
            if (refused.code !== 1 || !refused.stderr.includes(`--resume: no checkpoint in ${dir}`)) {
              r.failures.push(`--resume without a checkpoint: exit ${refused.code}, stderr ${JSON.stringify(refused.stderr.slice(-500))}; expected exit 1 and "--resume: no checkpoint in ${dir}"`);
              break;
            }
            r.freshRestarts++;
            resume = false;
          }
        }
        const expected = resume ? (await checkWorkDir(dir)).latest : null;
        const logBefore = readLog(dir).length;
        const at = r.killMoments.length < kills ? from + (rng.u32() / 2 ** 32) * (until - from) : null;
        log(`run ${run}: ${resume ? `--resume from ${expected}` : 'start'}${at === null ? '' : `, kill at ${at.toFixed(2)} s`}`);
        const e = await train(cfgPath, dir, resume, at, timeout, !resume && o.window === 'after-first-checkpoint' ? firstCheckpoint : undefined);
        if (resume) r.resumes++;
        const newResumes = resumeLines(readLog(dir).slice(logBefore));
        if (resume && newResumes.length > 0 && !newResumes[0]!.includes(`resumed from ${join(dir, expected!)} at iteration ${/\d+/.exec(expected!)![0]}`)) {
          r.failures.push(`resume logged "${newResumes[0]}", expected it to start from ${expected}`);
        }
        if (e.killed) {
          r.killMoments.push(at!);
          const check = await checkWorkDir(dir);
          r.checkpointsSeen.push(check.latest);
          addTmp(r, check.tmp);
          r.failures.push(...check.failures.map((f) => `after the kill at ${at!.toFixed(2)} s: ${f}`));
          resume = true;
        } else if (e.code === 0 && r.killMoments.length === 0 && outpaced < 3) {
          // Every run is to be killed at least once: redraw within the time this one actually took.
          log(`run ${run}: finished in ${e.seconds.toFixed(2)} s, before its kill at ${at!.toFixed(2)} s; starting it again`);
          rmSync(dir, { recursive: true, force: true });
          until = Math.max(from, Math.min(until, e.seconds));
          outpaced++;
        } else if (e.code === 0) {
          if (r.killMoments.length === 0) r.failures.push(`never killed: each of 4 tries finished before its kill moment`);
          if (resume && newResumes.length === 0) r.failures.push(`a --resume completed without logging "resumed from"`);
          done = true;
        } else {
          r.failures.push(`${resume ? '--resume' : 'training'} exited ${e.code} without being killed (${e.seconds.toFixed(1)} s):\n${e.stderr.slice(-1500)}`);
        }
      }
      if (done) {
        const end = await checkWorkDir(dir);
        addTmp(r, end.tmp);
        r.failures.push(...end.failures.map((f) => `after completion: ${f}`));
        const cmp = compareScalars(readScalars(dir), want);
        r.maxRelDiff = cmp.maxRelDiff;
        r.curveEqual = cmp.failures.length === 0;
        r.failures.push(...cmp.failures);
      }
      reports.push(r);
      rmSync(dir, { recursive: true, force: true }); // ~100 MB of checkpoints per run
      log(`run ${run}: ${r.failures.length ? `FAILED: ${r.failures[0]}` : 'ok'}`);
    }
    return { referenceSeconds: T, firstCheckpointSeconds: firstCheckpoint, window: [from, T], runs: reports, failures: reports.flatMap((r) => r.failures.map((f) => `run ${r.run}: ${f}`)) };
  } finally {
    tmp.cleanup();
  }
}

/** The report as a table: one row per run. */
export function formatTable(rep: KillResumeReport): string {
  const head = ['run', 'kills', 'kill moments (s)', 'resumes', 'fresh restarts', 'checkpoints seen', 'tmp left', 'max rel diff', 'curve equal'];
  const rows = rep.runs.map((r) => [
    String(r.run),
    String(r.killMoments.length),
    r.killMoments.map((t) => t.toFixed(2)).join(' '),
    String(r.resumes),
    String(r.freshRestarts),
    r.checkpointsSeen.map((c) => (c === null ? '-' : /\d+/.exec(c)![0])).join(' '),
    String(r.tmpLeftovers.length),
    Number.isNaN(r.maxRelDiff) ? '-' : r.maxRelDiff.toExponential(1),
    r.curveEqual ? 'yes' : 'no',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function parseArgs(argv: string[]): KillResumeOptions {
  const out: KillResumeOptions = { runs: 20, seed: Date.now() >>> 0, iters: 24, maxKills: 3 };
  const usage = 'usage: npx tsx scripts/kill-resume.ts [--runs 20] [--seed S] [--iters 24] [--max-kills 3]';
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const key = ({ '--runs': 'runs', '--seed': 'seed', '--iters': 'iters', '--max-kills': 'maxKills' } as const)[flag];
    if (!key) throw new Error(`unknown option ${flag}; ${usage}`);
    const n = Number(value);
    const min = key === 'seed' ? 0 : 1;
    if (value === undefined || !Number.isInteger(n) || n < min || n > 0xffffffff) throw new Error(`${flag} ${value ?? '(missing)'}: expected an integer ${min}..4294967295`);
    out[key] = n;
  }
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  console.log(`kill-resume: ${args.runs} runs of ${args.iters} iterations, up to ${args.maxKills} kills each, seed ${args.seed}`);
  const rep = await killResume({ ...args, log: (l) => console.log(`  ${l}`) });
  console.log(`\nreference run ${rep.referenceSeconds.toFixed(1)} s, first checkpoint at ${rep.firstCheckpointSeconds.toFixed(1)} s; kill moments uniform in [${rep.window.map((t) => t.toFixed(1)).join(', ')}) s after a process starts\n`);
  console.log(formatTable(rep));
  const tmps = rep.runs.flatMap((r) => r.tmpLeftovers);
  if (tmps.length) {
    const mb = tmps.reduce((a, t) => a + t.bytes, 0) / 1e6;
    console.log(`\n${tmps.length} temporary files left by SIGKILL (${mb.toFixed(1)} MB; ignored by --resume, never removed):\n${tmps.map((t) => `  ${t.name} ${t.bytes} bytes`).join('\n')}`);
  }
  if (rep.failures.length) console.log(`\nfailures:\n${rep.failures.join('\n')}`);
  return rep.failures.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error((e as Error).message);
      process.exit(2);
    },
  );
}
