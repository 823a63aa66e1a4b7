/**
 * `segkit predict`: segments an image, every image of a folder, or a video, with a shipped model or
 * a checkpoint. Writes label PNGs and colour maps (or JSON), overlays, and for person models the
 * matte, a blurred background or a replaced one. A file that cannot be read is reported and skipped.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { decodeImage, encodeImage, encodePng } from '../../data/image-node.js';
import type { DecodedImage } from '../../data/image.js';
import { MMSEG_TTA_RATIOS } from '../../inference/run.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { matteToBytes, smoothMasks } from '../../segmenter/effects.js';
import { createSegmenter } from '../../segmenter/node.js';
import type { Segmenter, SegmenterOptions } from '../../segmenter/segmenter.js';
import { parseArgs, UsageError, type Command } from '../command.js';
import { Effects, colorMap, overlay, parseHexColor, personMatte, personPlane, predictionJson, type Background } from '../predict-output.js';
import { Progress } from '../progress.js';
import { parseRefine } from '../refine-option.js';
import { isVideoFile, VIDEO_EXTENSIONS, VideoReader, VideoWriter } from '../video.js';

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];
/** Weight of the previous frame's matte in a video (steadies edges; more lags behind motion). */
const VIDEO_MATTE_SMOOTHING = 0.3;

interface PredictOptions {
  input: string;
  model: string;
  out: string;
  format: 'png' | 'json';
  overlay: boolean;
  alpha: boolean;
  blur: boolean;
  blurRadius?: number;
  background?: string;
  threads?: number;
  tta: boolean;
  crf: boolean;
  refine: SegmenterOptions['refine'];
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new UsageError(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

function parsePredictArgs(args: string[]): PredictOptions {
  const { positional, options: o } = parseArgs(args, {
    options: ['model', 'checkpoint', 'out', 'format', 'threads', 'background', 'blur-radius', 'refine'],
    flags: ['overlay', 'tta', 'crf', 'blur', 'alpha'],
  });
  if (positional.length !== 1) throw new UsageError(`expected one image, folder or video, got ${positional.length ? positional.map((p) => `'${p}'`).join(' ') : 'none'}`);
  if (o.model !== undefined && o.checkpoint !== undefined) throw new UsageError('--model and --checkpoint exclude each other: name a shipped model or a checkpoint file');
  const format = (o.format as string | undefined) ?? 'png';
  if (format !== 'png' && format !== 'json') throw new UsageError(`--format must be png or json, got '${format}'`);
  const background = o.background as string | undefined;
  if (background?.startsWith('#') && !parseHexColor(background)) throw new UsageError(`--background colour must be #rrggbb (e.g. #00b140), got '${background}'`);
  const blurRadius = positiveInt(o['blur-radius'] as string | undefined, '--blur-radius');
  if (blurRadius !== undefined && !o.blur) throw new UsageError('--blur-radius applies to --blur; add --blur');
  return {
    input: positional[0]!,
    model: (o.checkpoint ?? o.model ?? 'camvid') as string,
    out: (o.out as string | undefined) ?? 'predictions',
    format,
    overlay: o.overlay === true,
    alpha: o.alpha === true,
    blur: o.blur === true,
    blurRadius,
    background,
    threads: positiveInt(o.threads as string | undefined, '--threads'),
    tta: o.tta === true,
    crf: o.crf === true,
    refine: parseRefine(o.refine as string | undefined),
  };
}

/** The images to segment (sorted, non-recursive for a folder), or the one video. */
async function listInputs(input: string): Promise<{ video: string } | { images: string[] }> {
  const st = await stat(input).catch(() => null);
  if (!st) throw new Error(`no such file or folder: ${input}`);
  const isImage = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
  if (st.isDirectory()) {
    const entries = await readdir(input, { withFileTypes: true });
    const images = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && isImage(e.name)).map((e) => e.name).sort();
    if (images.length === 0) throw new Error(`folder ${input} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
    const byStem = new Map<string, string>();
    for (const name of images) {
      const stem = basename(name, extname(name));
      const other = byStem.get(stem);
      if (other) throw new Error(`${other} and ${name} in ${input} would write the same outputs ('${stem}'); rename one of them`);
      byStem.set(stem, name);
    }
    return { images: images.map((n) => join(input, n)) };
  }
  if (isVideoFile(input)) return { video: input };
  if (isImage(input)) return { images: [input] };
  throw new UsageError(`'${input}' is neither an image (${IMAGE_EXTENSIONS.join(', ')}), a video (${VIDEO_EXTENSIONS.join(', ')}) nor a folder`);
}

const stemOf = (file: string): string => basename(file, extname(file));

/** Segments the images one by one; returns how many failed. */
async function predictImages(files: string[], segmenter: Segmenter, o: PredictOptions, plane: number | undefined, effects: Effects): Promise<number> {
  const dirs = [
    ...(o.format === 'png' ? ['labels', 'color'] : []),
    ...(o.overlay ? ['overlay'] : []),
    ...(o.alpha ? ['alpha'] : []),
    ...(o.blur ? ['blur'] : []),
    ...(o.background !== undefined ? ['replaced'] : []),
  ];
  await mkdir(o.out, { recursive: true });
  for (const d of dirs) await mkdir(join(o.out, d), { recursive: true });
  const progress = files.length > 1 ? new Progress({ label: 'predict', total: files.length }) : undefined;
  let failed = 0;
  for (const file of files) {
    try {
      await predictImage(file, segmenter, o, plane, effects);
    } catch (e) {
      failed++;
      const line = `${basename(file)}: skipped: ${(e as Error).message.replace(/\s+/g, ' ').trim()}`;
      if (progress) progress.log(line);
      else console.error(line);
    }
    progress?.tick();
  }
  progress?.done();
  const what = [...(o.format === 'json' ? ['<stem>.json'] : []), ...dirs.map((d) => `${d}/`)].join(', ');
  console.log(`wrote ${files.length - failed} of ${files.length} prediction(s) to ${o.out}/ (${what})`);
  return failed;
}

/** Decodes, segments and writes every output asked for of one image; throws on the first problem. */
async function predictImage(file: string, segmenter: Segmenter, o: PredictOptions, plane: number | undefined, effects: Effects): Promise<void> {
  const img = await decodeImage(file);
  const seg = await segmenter.segment(img);
  const stem = stemOf(file);
  const { width, height } = seg;
  const at = (dir: string, ext: string) => join(o.out, dir, `${stem}${ext}`);
  const jpeg = async (path: string, im: DecodedImage) => writeFileAtomic(path, await encodeImage(im, 'jpeg'));
  if (o.format === 'json') {
    await writeFileAtomic(join(o.out, `${stem}.json`), predictionJson(basename(file), seg));
  } else {
    await writeFileAtomic(at('labels', '.png'), await encodePng({ data: seg.labels, width, height, channels: 1 }));
    await writeFileAtomic(at('color', '.png'), await encodePng(colorMap(seg)));
  }
  if (o.overlay) await jpeg(at('overlay', '.jpg'), overlay(img, seg));
  // The matte needs the person probabilities, which the segmenter computes only when an effect is asked.
  if (plane === undefined || !(o.alpha || o.blur || o.background !== undefined)) return;
  const alpha = personMatte(seg, plane);
  if (o.alpha) await writeFileAtomic(at('alpha', '.png'), await encodePng({ data: matteToBytes(alpha), width, height, channels: 1 }));
  if (o.blur) await jpeg(at('blur', '.jpg'), effects.blur(img, alpha));
  if (o.background !== undefined) await jpeg(at('replaced', '.jpg'), effects.replace(img, alpha));
}

/** A matte shown as a grey RGB frame (video frames are RGB). */
function greyToRgb(grey: Uint8Array, width: number, height: number): DecodedImage {
  const data = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) data.fill(grey[i]!, i * 3, i * 3 + 3);
  return { data, width, height, channels: 3 };
}

/** The one output a video gets; errors for options that do not apply to video. */
function videoEffect(o: PredictOptions): 'alpha' | 'blur' | 'background' | undefined {
  if (o.format === 'json') throw new UsageError('--format json is for images; a video is written as <out>/<stem>.mp4');
  const chosen = (['alpha', 'blur', 'background'] as const).filter((k) => (k === 'background' ? o.background !== undefined : o[k]));
  if (chosen.length > 1) throw new UsageError(`a video gets one effect; choose one of ${chosen.map((k) => `--${k}`).join(', ')}`);
  return chosen[0];
}

/** Segments a video frame by frame into `<out>/<stem>.mp4`: the person effect asked for, else the colour overlay. */
async function predictVideo(file: string, reader: VideoReader, segmenter: Segmenter, o: PredictOptions, plane: number | undefined, effects: Effects): Promise<void> {
  const effect = videoEffect(o);
  await mkdir(o.out, { recursive: true });
  const target = join(o.out, `${stemOf(file)}.mp4`);
  const { width, height } = reader.info;
  let writer: VideoWriter | undefined;
  const progress = new Progress({ label: 'frames' });
  try {
    writer = await VideoWriter.open(target, reader.info);
    let prev: Float32Array | undefined;
    let frames = 0;
    for await (const frame of reader.frames()) {
      const img: DecodedImage = { data: frame, width, height, channels: 3 };
      const seg = await segmenter.segment(img);
      let out: DecodedImage;
      if (plane !== undefined && effect !== undefined) {
        prev = smoothMasks(prev, personMatte(seg, plane), VIDEO_MATTE_SMOOTHING);
        if (effect === 'alpha') out = greyToRgb(matteToBytes(prev), width, height);
        else out = effect === 'blur' ? effects.blur(img, prev) : effects.replace(img, prev);
      } else out = overlay(img, seg);
      await writer.write(out.data);
      progress.tick();
      frames++;
    }
    progress.done();
    if (frames === 0) throw new Error(`ffmpeg decoded no frames from ${file}`);
    await writer.finish();
    console.log(`wrote ${target} (${frames} frames, ${width}×${height}, ${reader.info.fps} fps)`);
  } catch (e) {
    await writer?.abort();
    throw e;
  }
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'segment an image, a folder of images or a video (label PNGs, colour maps, overlays, person background blur/replace)',
  usage: `Usage: segkit predict <image|folder|video> [--model NAME | --checkpoint FILE] [--out DIR]
                      [--overlay] [--format png|json] [--threads N] [--tta] [--crf]
                      [--refine R,EPS|on|off] [--alpha] [--blur [--blur-radius N]] [--background IMG|#rrggbb]

  input         an image (.jpg .jpeg .png .webp), a folder (its images, not subfolders) or a
                video (.mp4 .avi .mov .mkv .webm .y4m; needs ffmpeg on PATH)
  --model       a shipped model (default camvid)
  --checkpoint  a segkit checkpoint file (from segkit train) instead of a shipped model
  --out         output folder (default predictions/)
  --overlay     also write overlay/<stem>.jpg: the colour map blended over the image
  --format      png (default): labels/<stem>.png (1-channel class indices, input size) and
                color/<stem>.png (the model's palette); json: <stem>.json instead, holding
                {image, width, height, classes, counts (pixels per class), rle} where rle is
                the label map in row-major order as runs [value, length]
  --threads     onnxruntime threads (default: all cores)
  --tta         test-time augmentation: scales ${MMSEG_TTA_RATIOS.join(', ')}, each also flipped,
                probabilities averaged (about ${MMSEG_TTA_RATIOS.length * 2}× slower)
  --crf         post-process the logits with the mean-field CRF (FastSeg's crfseg layer)
  --refine      guided-filter edge refinement of two-class models: R,EPS (radius in the model's
                pixels, e.g. 8,1e-3), 'on' or 'off' (default: what the model was shipped with)

Person models (binary, or with a 'person' class):
  --alpha       alpha/<stem>.png: the person matte, 0..255 from the person probability
  --blur        blur/<stem>.jpg: background blurred, person sharp, blended by the matte
  --blur-radius blur radius in pixels (default 2% of the longer side)
  --background  replaced/<stem>.jpg: the person over an image (scaled to cover) or a colour

A video becomes <out>/<stem>.mp4: the colour overlay, or with a person model the one effect
asked for (--blur, --background, or --alpha as a grey matte), mattes smoothed across frames.
A file that cannot be read is reported and skipped; the exit code is 1 if any failed.`,
  async run(args) {
    const o = parsePredictArgs(args);
    const inputs = await listInputs(o.input);
    const effectsAsked = o.alpha || o.blur || o.background !== undefined;
    let background: Background | undefined;
    if (o.background !== undefined) {
      const color = parseHexColor(o.background);
      background = color ? { color } : { image: await decodeImage(o.background) };
    }
    let reader: VideoReader | undefined;
    let segmenter: Segmenter | undefined;
    try {
      // Video option errors, a missing ffmpeg and an unreadable video show before the model loads.
      if ('video' in inputs) {
        videoEffect(o);
        reader = await VideoReader.open(inputs.video);
      }
      segmenter = await createSegmenter(o.model, { threads: o.threads, probabilities: effectsAsked, crf: o.crf, refine: o.refine, ...(o.tta ? { ratios: MMSEG_TTA_RATIOS, flip: true } : {}) });
      const plane = personPlane(segmenter.model.numClasses, segmenter.classes);
      if (effectsAsked && plane === undefined) {
        throw new UsageError(`--alpha, --blur and --background need a person model (binary, or with a 'person' class); ${o.model} predicts ${segmenter.classes.join(', ')}`);
      }
      const effects = new Effects(background, o.blurRadius);
      if ('video' in inputs) {
        await predictVideo(inputs.video, reader!, segmenter, o, plane, effects);
        return 0;
      }
      const failed = await predictImages(inputs.images, segmenter, o, plane, effects);
      if (failed > 0) console.error(`${failed} of ${inputs.images.length} failed`);
      return failed > 0 ? 1 : 0;
    } finally {
      reader?.close();
      await segmenter?.dispose();
    }
  },
};
