/**
 * Data-loader throughput: CamVid train at 360×480 with the full augmentation pipeline
 * (RandomResize 0.5–2.0 → RandomCrop 360×480 catMaxRatio 0.75 → RandomFlip → PhotoMetricDistortion →
 * Normalize → Pad), for 1 and 2 worker threads (and any others asked for).
 *
 *   npx tsx bench/data.ts [--root ../shared/datasets/camvid] [--batch 8] [--workers 1,2] [--images N]
 *                         [--step-ms MS] [--seed 0]
 *
 * Images/s is measured after the first batch (worker start-up is reported separately). With
 * `--step-ms` (milliseconds one training step of `--batch` images takes), the last column is the
 * loader's rate divided by the rate the training step consumes images (target ≥ 3×); without it the
 * column says the comparison is pending. No number here is estimated: all are measured on this run.
 */
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../src/cli/command.js';
import { createDataset } from '../src/data/sources/registry.js';
import { DataLoader } from '../src/data/loader.js';
import { mmsegTrainPipeline } from '../src/data/transforms/presets.js';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { options } = parseArgs(process.argv.slice(2), { options: ['root', 'batch', 'workers', 'images', 'step-ms', 'seed'] });
const root = typeof options.root === 'string' ? resolve(options.root) : resolve(repo, '..', 'shared', 'datasets', 'camvid');
const batch = Number(options.batch ?? 8);
const workerCounts = String(options.workers ?? '1,2').split(',').map(Number);
const stepMs = options['step-ms'] === undefined ? null : Number(options['step-ms']);
const seed = Number(options.seed ?? 0);
if (!(Number.isInteger(batch) && batch > 0)) throw new Error(`--batch must be a positive integer, got ${options.batch}`);
if (workerCounts.some((w) => !(Number.isInteger(w) && w >= 0))) throw new Error(`--workers must be a comma list of integers ≥ 0, got ${options.workers}`);
if (stepMs !== null && !(stepMs > 0)) throw new Error(`--step-ms must be a positive number of milliseconds, got ${options['step-ms']}`);

const ds = await createDataset('camvid', { root, split: 'train' });
const images = Math.min(Number(options.images ?? ds.length), ds.length);
const pipeline = mmsegTrainPipeline({ scale: [480, 360], cropSize: [360, 480], ratioRange: [0.5, 2.0], catMaxRatio: 0.75 });

console.log(`segkit data-loader benchmark — CamVid ${ds.split} (${ds.length} images, ${root})`);
console.log(`pipeline: ${pipeline.map((s) => s.type).join(' → ')}; output 360×480, batch ${batch}, ${images} images per run`);
console.log(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`);
console.log('');

interface Row {
  workers: number;
  startupMs: number;
  imgPerS: number;
  msPerBatch: number;
}
const rows: Row[] = [];
for (const workers of workerCounts) {
  const loader = new DataLoader({ dataset: ds, pipeline, batchSize: batch, workers, seed, prefetch: 2, dropLast: true });
  const t0 = performance.now();
  let tFirst = 0;
  let n = 0; // images after the first batch (the timed ones)
  let total = 0;
  for await (const b of loader) {
    if (total === 0) tFirst = performance.now();
    else n += b.size;
    total += b.size;
    if (total + batch > images) break;
  }
  const t1 = performance.now();
  await loader.close();
  const imgPerS = (n / (t1 - tFirst)) * 1000;
  rows.push({ workers, startupMs: tFirst - t0, imgPerS, msPerBatch: (batch / imgPerS) * 1000 });
}

const consume = stepMs === null ? null : batch / (stepMs / 1000); // images/s a training step consumes
const header = ['workers', 'images/s', `ms/batch(${batch})`, 'first batch ms', stepMs === null ? 'vs training step' : `× step (${stepMs} ms/step = ${consume!.toFixed(1)} img/s)`];
const table = rows.map((r) => [
  r.workers === 0 ? '0 (inline)' : String(r.workers),
  r.imgPerS.toFixed(1),
  r.msPerBatch.toFixed(0),
  r.startupMs.toFixed(0),
  consume === null ? 'pending: pass --step-ms' : `${(r.imgPerS / consume).toFixed(2)}× ${r.imgPerS / consume >= 3 ? '(≥ 3× target met)' : '(below the 3× target)'}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of table) console.log(line(r));
if (consume === null) {
  console.log('\nThe training step of S2-FPN R18 does not exist yet; rerun with --step-ms <ms per step of --batch images> to get the ratio.');
}
