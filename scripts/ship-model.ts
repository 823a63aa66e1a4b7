/**
 * Ships a trained model in the package and writes its model card from measurements:
 *
 *   npx tsx scripts/ship-model.ts <camvid|portrait> <work-dir> [--checkpoint FILE] [--frames N]
 *                                 [--storage float16|int8]
 *
 * 1. Takes the run's best checkpoint (best_<metric>_iter_N.safetensors; or --checkpoint), drops the
 *    optimizer state, stores the weights as float16 (default) or with int8 convolution weights (for
 *    models whose float16 file would pass the package's 20 MB per model) → models/<name>/model.safetensors.
 * 2. Evaluates the shipped file with `segkit eval` on the config's validation images (per-class table).
 * 3. Times the model alone with `segkit benchmark --checkpoint` at its input size, and the whole
 *    `createSegmenter(name).segment(image)` (resize in, model, resize out, argmax) on N validation
 *    frames at their native size.
 * 4. Reads the training time from the work dir's log.txt.
 * 5. Writes models/<name>/README.md: the card, every number in it from the steps above, with the
 *    commands that produced them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { machineInfo } from '../src/bench-model/machine.js';
import { latencyStats } from '../src/bench-model/stats.js';
import { writeFileAtomic } from '../src/io/atomic-file.js';
import { createModel } from '../src/models/index.js';
import { createSegmenter } from '../src/segmenter/node.js';
import { buildValDataset } from '../src/train/build.js';
import { loadCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { weightsOnly, type WeightStorage } from '../src/train/checkpoint-format.js';
import type { TrainConfig } from '../src/train/config.js';

interface ModelCardText {
  title: string;
  task: string;
  data: string;
  limitations: string[];
}

const CARDS: Record<string, ModelCardText> = {
  camvid: {
    title: 'camvid: road-scene segmentation (CamVid, 11 classes)',
    task: 'Labels every pixel of a street-level photo with one of the 11 CamVid classes (sky, building, pole, road, sidewalk, tree, sign/symbol, fence, car, pedestrian, bicyclist). The default model of `segkit predict`.',
    data: 'CamVid as distributed with the SegNet tutorial: 367 training and 101 validation frames of 360×480 from driving videos in Cambridge (UK), 11 classes plus void (ignored). Trained on train only; the checkpoint kept is the one with the best val mIoU (val chooses, it is not trained on). The test split is not in the training data and was never looked at.',
    limitations: [
      'Trained from scratch on 367 daytime frames from one city: expect worse results at night, in rain, on other continents (lane markings, sign shapes, left/right-hand traffic) and from viewpoints other than a car dashboard.',
      'Runs at half resolution (180×240) for speed; thin structures (poles, sign posts, distant pedestrians and cyclists) are the weakest classes — see the per-class table.',
      'CamVid is for research use; so are these weights.',
    ],
  },
  portrait: {
    title: 'portrait: person/background segmentation (EG1800)',
    task: 'Separates the person from the background in a portrait photo or video-call frame (2 classes). The default model of the person helpers (`segmentPeople`, background blur and replacement).',
    data: 'EG1800 (Shen et al. 2016): Flickr portraits with hand-made masks; 1290 training images, of which a fixed 10 % (129, drawn with the run seed) is held out for choosing the checkpoint and reporting the numbers below. The official test split is not in the data.',
    limitations: [
      'Portraits: one or a few people facing the camera, upper body. Full-body, crowd and back-facing views are outside the training distribution.',
      'Fine hair and transparent objects get a hard edge; use `featherMask`/`smoothMasks` for compositing.',
      'EG1800 comes from Flickr for research use; so do these weights.',
    ],
  },
};

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const segkit = join(root, 'bin', 'segkit.js');

function run(args: string[]): string {
  return execFileSync(process.execPath, [segkit, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
}

function bestCheckpoint(workDir: string): string {
  const best = readdirSync(workDir).filter((f) => /^best_.*_iter_\d+\.safetensors$/.test(f));
  if (best.length !== 1) throw new Error(`${workDir}: expected one best_*_iter_N.safetensors, found ${best.length} (${best.join(', ')}); pass --checkpoint`);
  return join(workDir, best[0]!);
}

/** Wall time of the run from its log: first line to the 'done' line, in hours (null when not finished). */
function trainingHours(workDir: string): { hours: number; resumed: boolean } | null {
  const lines = readFileSync(join(workDir, 'log.txt'), 'utf8').trim().split('\n');
  const time = (l: string) => Date.parse(`${l.slice(0, 19).replace(' ', 'T')}Z`);
  const done = [...lines].reverse().find((l) => / done: /.test(l));
  if (!done) return null;
  return { hours: (time(done) - time(lines[0]!)) / 3.6e6, resumed: lines.some((l) => /resum/i.test(l)) };
}

const pct = (v: number) => (100 * v).toFixed(2);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const explicit = flag('--checkpoint');
  const frames = Number(flag('--frames') ?? 50);
  const storage = (flag('--storage') ?? 'float16') as WeightStorage;
  const [name, workDir] = args;
  if (!name || !workDir || !CARDS[name]) throw new Error(`usage: ship-model.ts <${Object.keys(CARDS).join('|')}> <work-dir> [--checkpoint FILE] [--frames N]`);
  const text = CARDS[name]!;
  const source = explicit ?? bestCheckpoint(workDir);
  const ckpt = await loadCheckpoint(source);
  const config = ckpt.meta.config as TrainConfig;

  // 1. The shipped file.
  const dir = join(root, 'models', name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'model.safetensors');
  await saveCheckpoint(file, weightsOnly(ckpt, { storage }));
  const megabytes = statSync(file).size / 1e6;
  const params = createModel(ckpt.meta.model.name, ckpt.meta.model.options as never).numParameters();
  console.log(`wrote ${file} (${megabytes.toFixed(2)} MB, ${params} parameters) from ${source}`);

  // 2. Accuracy of the shipped weights, as stored.
  const out = mkdtempSync(join(tmpdir(), 'segkit-ship-'));
  let evalReport: { mIoU: number; aAcc: number; mAcc: number; images: number; split: string; perClass: { name: string; iou: number; acc: number }[] };
  let bench: { complexity: { gmacs: number }; timing: { latencyMs: { median: number }; fps: number }; runtime: { threads?: number } };
  const inputSize = (config.data.valPipeline?.find((t) => t.type === 'Resize') as { scale?: [number, number] } | undefined)?.scale;
  const [inW, inH] = inputSize ?? [480, 360];
  try {
    const table = run(['eval', file, '--out', out]);
    evalReport = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    console.log(table);
    // 3. Speed: the model alone, then the whole segmenter on real frames.
    run(['benchmark', '--checkpoint', file, '--input', `1x3x${inH}x${inW}`, '--iters', '200', '--json', join(out, 'bench.json')]);
    bench = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const val = (await buildValDataset(config, config.train.seed ?? 0))!;
  const segmenter = await createSegmenter(name);
  const times: number[] = [];
  let frameSize = '';
  try {
    for (let i = 0; i < Math.min(frames, val.length) + 3; i++) {
      const s = await val.load(i % val.length);
      frameSize = `${s.height}×${s.width}`;
      const image = { data: s.image as Uint8Array, width: s.width, height: s.height, channels: 3 };
      const t = performance.now();
      await segmenter.segment(image);
      if (i >= 3) times.push(performance.now() - t); // the first runs build the session
    }
  } finally {
    await segmenter.dispose();
  }
  const e2e = latencyStats(times).median;

  // 4. Training time.
  const trained = trainingHours(workDir);
  const machine = machineInfo();

  // 5. The card.
  const perClass = evalReport.perClass.map((c) => `| ${c.name} | ${pct(c.iou)} | ${pct(c.acc)} |`).join('\n');
  const card = `# ${text.title}

${text.task}

\`\`\`js
import { createSegmenter } from 'segkit';
const segmenter = await createSegmenter('${name}');
const { labels, width, height, classes } = await segmenter.segment('photo.jpg');
await segmenter.dispose();
\`\`\`

| | |
|---|---|
| architecture | \`${ckpt.meta.model.name}\` ${JSON.stringify(ckpt.meta.model.options)} |
| parameters | ${(params / 1e6).toFixed(3)} M (${bench.complexity.gmacs.toFixed(3)} GMACs at ${inH}×${inW}) |
| file | model.safetensors, ${megabytes.toFixed(2)} MB (${storage === 'int8' ? 'per-channel int8 convolution weights, the rest float16' : 'float16 weights'}; loaded as float32) |
| input | RGB, resized to ${inH}×${inW} inside the segmenter; labels come back at the image's size |
| classes | ${ckpt.meta.classes.join(', ')} |
| recipe | \`${config.name}\` (${config.description}) |
| training | ${trained ? `${trained.hours.toFixed(2)} h wall time on the 2-core machine${trained.resumed ? ' (resumed once or more; the time includes the gaps)' : ''}` : 'not recorded'}; checkpoint of iteration ${ckpt.meta.iteration}${ckpt.meta.best ? ` (best ${ckpt.meta.best.metric} ${pct(ckpt.meta.best.value)} at iteration ${ckpt.meta.best.iteration})` : ''} |

## Data

${text.data}

## Reproduce

\`\`\`bash
npx segkit train ${config.name}            # add --resume after an interruption
npx tsx scripts/ship-model.ts ${name} work_dirs/${config.name}${storage !== 'float16' ? ` --storage ${storage}` : ''}   # this file and model.safetensors
\`\`\`

## Accuracy (the shipped ${storage} weights)

\`segkit eval models/${name}/model.safetensors\`: ${evalReport.images} ${evalReport.split} images, single scale, labels at full resolution.

**mIoU ${pct(evalReport.mIoU)} %**, aAcc ${pct(evalReport.aAcc)} %, mAcc ${pct(evalReport.mAcc)} %.

| class | IoU | Acc |
|---|---|---|
${perClass}

## Speed (${machine.cpu}, ${machine.cores} cores, onnxruntime-node)

| what | median latency | FPS |
|---|---|---|
| model alone, 1×3×${inH}×${inW} (\`segkit benchmark --checkpoint models/${name}/model.safetensors --input 1x3x${inH}x${inW}\`) | ${bench.timing.latencyMs.median.toFixed(1)} ms | ${bench.timing.fps.toFixed(1)} |
| \`segmenter.segment(image)\` on ${times.length} decoded ${frameSize} frames: resize, model, resize back, argmax | ${e2e.toFixed(1)} ms | ${(1000 / e2e).toFixed(1)} |

## Limitations

${text.limitations.map((l) => `- ${l}`).join('\n')}

_Generated by \`scripts/ship-model.ts\`; every number above comes from the commands it names._
`;
  await writeFileAtomic(join(dir, 'README.md'), card);
  console.log(`wrote ${join(dir, 'README.md')}: mIoU ${pct(evalReport.mIoU)} %, model ${bench.timing.latencyMs.median.toFixed(1)} ms, end to end ${e2e.toFixed(1)} ms`);
}

await main();
