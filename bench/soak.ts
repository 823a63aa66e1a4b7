/**
 * Streaming-inference soak: one Segmenter (a binary person-style SegFormer mit-b0 returning
 * probabilities, as a video-call background app runs it) on a long stream of same-size synthetic
 * frames, with process memory sampled throughout; then dispose(), then many create/segment/dispose
 * cycles.
 *
 *   npx tsx --expose-gc bench/soak.ts [--frames 10000] [--size 160x120] [--threads 2]
 *                                     [--sample-every 100] [--cycles 50] [--bound-mib 32]
 *
 * Pass/fail (exit 1 on any failure), with B = --bound-mib:
 * - stream: after warm-up (the first 5 % of frames, at least one sample interval), RSS never rises
 *   more than B above its value at the end of warm-up, and the least-squares RSS slope over the
 *   post-warm-up samples, times the post-warm-up frame count, stays under B;
 * - frames one pattern period apart are identical, so their outputs must be bit-identical (no state
 *   carried from frame to frame);
 * - dispose() leaves no onnxruntime session open (counted by a wrapper around the runtime), after
 *   the stream and after every cycle;
 * - cycles: after warm-up (the first 20 % of cycles), the RSS slope times the remaining cycle count
 *   stays under B, and RSS never rises more than B above its value at the end of warm-up (a leaked
 *   mit-b0 session is about 17 MiB at 48×40, so a per-cycle leak fails within a few cycles).
 * With --expose-gc a full GC runs before every sample, so heap numbers are live data, not garbage;
 * without it the bounds still hold, with more noise.
 */
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from '../src/cli/command.js';
import { nodeCodec } from '../src/data/image-node.js';
import type { DecodedImage } from '../src/data/image.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import { countingRuntime, drawFrame, personCheckpoint, STREAM_PERIOD } from '../test/robustness/streaming.js';

const MiB = 1024 * 1024;
const PERIOD = STREAM_PERIOD;

const { options } = parseArgs(process.argv.slice(2), { options: ['frames', 'size', 'threads', 'sample-every', 'cycles', 'bound-mib'] });
function positiveInt(name: string, def: number): number {
  const raw = options[name];
  const v = raw === undefined ? def : Number(raw);
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer, got '${raw}'`);
  return v;
}
const frames = positiveInt('frames', 10000);
const threads = positiveInt('threads', 2);
const sampleEvery = positiveInt('sample-every', 100);
const cycles = positiveInt('cycles', 50);
const bound = positiveInt('bound-mib', 32) * MiB;
const sizeMatch = /^(\d+)x(\d+)$/.exec(String(options.size ?? '160x120'));
// mit-b0's first stage is a stride-4 7×7 patch embedding followed by an 8×8 spatial reduction: 29 px is its minimum.
if (!sizeMatch || Number(sizeMatch[1]) < 29 || Number(sizeMatch[2]) < 29) throw new Error(`--size must be WIDTHxHEIGHT with both ≥ 29 (mit-b0's minimum), got '${options.size}'`);
const [W, H] = [Number(sizeMatch[1]), Number(sizeMatch[2])];
if (frames < 3 * sampleEvery) throw new Error(`--frames ${frames} gives fewer than 3 samples at --sample-every ${sampleEvery}; a trend needs more`);

const gc = (globalThis as { gc?: () => void }).gc;

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
function sample(at: number): Sample {
  gc?.();
  const m = process.memoryUsage();
  return { at, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxy / sxx;
}




const mib = (b: number) => (b / MiB).toFixed(1);
const failures: string[] = [];

console.log(`segkit soak — SegFormer mit-b0 (binary, probabilities), ${W}×${H} frames, ${frames} frames, ${threads} threads, sample every ${sampleEvery}`);
console.log(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; GC before samples: ${gc ? 'yes' : 'no (run with --expose-gc for cleaner numbers)'}`);
console.log('');

const checkpoint = personCheckpoint();
const runtime = countingRuntime();
const seg = Segmenter.fromCheckpoint(checkpoint, nodeCodec, runtime, { threads, probabilities: true });
const frame: DecodedImage = { data: new Uint8Array(W * H * 3), width: W, height: H, channels: 3 };

const samples: Sample[] = [sample(0)];
// Outputs of the first period, to compare with the same phase in the last full period.
const firstPeriod: Float32Array[] = [];
const lastPhaseStart = Math.floor((frames - 1) / PERIOD) * PERIOD;
let mismatch: number | null = null;
let segmentMs = 0;
for (let t = 0; t < frames; t++) {
  drawFrame(t, W, H, frame.data);
  const t0 = performance.now();
  const r = await seg.segment(frame);
  segmentMs += performance.now() - t0;
  if (r.labels.length !== W * H || r.probabilities?.length !== W * H) throw new Error(`frame ${t}: expected ${W * H} labels and probabilities, got ${r.labels.length} and ${r.probabilities?.length}`);
  if (t < PERIOD) firstPeriod.push(r.probabilities);
  else if (t >= lastPhaseStart && mismatch === null && r.probabilities.some((v, i) => v !== firstPeriod[t % PERIOD]![i])) mismatch = t;
  if ((t + 1) % sampleEvery === 0) samples.push(sample(t + 1));
}
const fps = frames / (segmentMs / 1000);

console.log('frame      rss MiB  heapUsed MiB  external MiB  arrayBuffers MiB');
for (const s of samples) console.log(`${String(s.at).padStart(6)}  ${mib(s.rss).padStart(9)}  ${mib(s.heapUsed).padStart(12)}  ${mib(s.external).padStart(12)}  ${mib(s.arrayBuffers).padStart(16)}`);
console.log('');

const warmupFrames = Math.max(sampleEvery, Math.ceil(0.05 * frames));
const post = samples.filter((s) => s.at >= warmupFrames);
const warm = post[0]!;
const rssMax = Math.max(...post.map((s) => s.rss));
const rssFinal = post[post.length - 1]!.rss;
const at = post.map((s) => s.at);
const rssSlope = slope(at, post.map((s) => s.rss));
const heapSlope = slope(at, post.map((s) => s.heapUsed));
const bufSlope = slope(at, post.map((s) => s.arrayBuffers));
const projected = rssSlope * (frames - warm.at);
console.log(`warm-up: ${warm.at} frames; RSS then ${mib(warm.rss)} MiB, max after ${mib(rssMax)} MiB (+${mib(rssMax - warm.rss)}), final ${mib(rssFinal)} MiB (${rssFinal >= warm.rss ? '+' : ''}${mib(rssFinal - warm.rss)})`);
console.log(`slopes after warm-up (least squares): RSS ${rssSlope.toFixed(1)} B/frame (${mib(projected)} MiB over ${frames - warm.at} frames), heapUsed ${heapSlope.toFixed(1)} B/frame, arrayBuffers ${bufSlope.toFixed(1)} B/frame`);
console.log(`throughput: ${fps.toFixed(1)} frames/s (${(segmentMs / frames).toFixed(2)} ms/frame, segment() only); sessions open while streaming: ${runtime.open()}`);
const periodCheck = frames <= PERIOD ? `not checked (needs more than ${PERIOD} frames)` : mismatch === null ? `bit-identical (frames ${lastPhaseStart}… vs 0…)` : `differ at frame ${mismatch}`;
console.log(`outputs one period apart: ${periodCheck}`);
if (rssMax - warm.rss > bound) failures.push(`stream: RSS rose ${mib(rssMax - warm.rss)} MiB after warm-up (bound ${mib(bound)} MiB)`);
if (projected > bound) failures.push(`stream: RSS slope ${rssSlope.toFixed(1)} B/frame projects ${mib(projected)} MiB over the run (bound ${mib(bound)} MiB)`);
if (mismatch !== null) failures.push(`stream: frame ${mismatch} gave other probabilities than the identical frame ${mismatch % PERIOD}`);

await seg.dispose();
const disposed = sample(frames);
console.log(`after dispose(): RSS ${mib(disposed.rss)} MiB, heapUsed ${mib(disposed.heapUsed)} MiB, arrayBuffers ${mib(disposed.arrayBuffers)} MiB; sessions open: ${runtime.open()}`);
if (runtime.open() !== 0) failures.push(`dispose(): ${runtime.open()} sessions still open`);
try {
  await seg.segment(frame);
  failures.push('segment() after dispose() resolved');
} catch (e) {
  const message = (e as Error).message;
  console.log(`segment() after dispose(): rejects with '${message}'`);
  if (!/has been disposed/.test(message)) failures.push(`segment() after dispose() rejected with '${message}', expected /has been disposed/`);
}
console.log('');

const cycleSamples: Sample[] = [sample(0)];
drawFrame(0, W, H, frame.data);
const c0 = performance.now();
for (let k = 1; k <= cycles; k++) {
  const s = Segmenter.fromCheckpoint(checkpoint, nodeCodec, runtime, { threads, probabilities: true });
  // One frame, so the session (created lazily on the first call) exists to be released.
  await s.segment(frame);
  await s.dispose();
  if (runtime.open() !== 0) failures.push(`cycle ${k}: ${runtime.open()} sessions open after dispose()`);
  cycleSamples.push(sample(k));
}
// Cycle warm-up: the allocator grows to the peak of one cycle (model, ONNX bytes, session) and keeps
// that memory for the next; a leak shows as growth after it.
const cycleWarmup = Math.max(1, Math.ceil(0.2 * cycles));
const cyclePost = cycleSamples.filter((s) => s.at >= cycleWarmup);
const cycleWarm = cyclePost[0]!;
const cycleSlope = cyclePost.length > 1 ? slope(cyclePost.map((s) => s.at), cyclePost.map((s) => s.rss)) : 0;
const cycleProjected = cycleSlope * (cycles - cycleWarmup);
const cycleMax = Math.max(...cyclePost.map((s) => s.rss));
console.log(`create → segment → dispose × ${cycles} (${((performance.now() - c0) / cycles / 1000).toFixed(2)} s/cycle), warm-up ${cycleWarmup} cycles:`);
console.log(
  `  RSS before ${mib(cycleSamples[0]!.rss)} MiB, after warm-up ${mib(cycleWarm.rss)} MiB, max after ${mib(cycleMax)} MiB (+${mib(cycleMax - cycleWarm.rss)}), final ${mib(cycleSamples[cycles]!.rss)} MiB; ` +
    `slope ${(cycleSlope / 1024).toFixed(1)} KiB/cycle (${mib(cycleProjected)} MiB over ${cycles - cycleWarmup}); sessions open: ${runtime.open()}`,
);
const every = Math.max(1, Math.floor(cycles / 10));
console.log(`  RSS MiB by cycle: ${cycleSamples.filter((s) => s.at % every === 0).map((s) => `${s.at}:${mib(s.rss)}`).join('  ')}`);
if (cycleProjected > bound) failures.push(`cycles: RSS slope ${(cycleSlope / 1024).toFixed(1)} KiB/cycle projects ${mib(cycleProjected)} MiB over ${cycles - cycleWarmup} cycles (bound ${mib(bound)} MiB)`);
if (cycleMax - cycleWarm.rss > bound) failures.push(`cycles: RSS rose ${mib(cycleMax - cycleWarm.rss)} MiB after warm-up (bound ${mib(bound)} MiB)`);

console.log('');
if (failures.length) {
  console.log(`FAIL\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`PASS (bound ${mib(bound)} MiB)`);
