/**
 * Video frames in and out through the `ffmpeg` program (Node only): a reader decodes any video
 * ffmpeg knows to raw RGB frames on its stdout, a writer encodes raw RGB frames from its stdin to
 * MP4. One frame at a time crosses each pipe and the pipes apply back-pressure, so memory stays flat
 * however long the video is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Readable } from 'node:stream';

/** File extensions `segkit predict` treats as video. */
export const VIDEO_EXTENSIONS = ['.mp4', '.avi', '.mov', '.mkv', '.webm', '.y4m'] as const;

/** Whether a path names a video by its extension. */
export const isVideoFile = (path: string): boolean => (VIDEO_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());

/** Size and frame rate of the decoded frames. */
export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second. */
  fps: number;
}

/** Options shared by {@link VideoReader} and {@link VideoWriter}. */
export interface FfmpegOptions {
  /** The ffmpeg executable (default `ffmpeg`, looked up on PATH). */
  ffmpeg?: string;
}

/** How much of ffmpeg's stderr is kept for error messages. */
const STDERR_TAIL = 4000;

/** Starts ffmpeg; a missing executable becomes an error that says how to install it. */
async function spawnFfmpeg(bin: string, args: string[], stdin: 'pipe' | 'ignore'): Promise<ChildProcess> {
  const proc = spawn(bin, args, { stdio: [stdin, 'pipe', 'pipe'] });
  try {
    await once(proc, 'spawn');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`video needs ffmpeg, but '${bin}' was not found on PATH; install ffmpeg (e.g. 'apt-get install ffmpeg', 'brew install ffmpeg') and try again`);
    }
    throw new Error(`cannot start ffmpeg ('${bin}'): ${(e as Error).message}`);
  }
  return proc;
}

/** Collects the tail of a stream (ffmpeg's stderr must be drained, or ffmpeg blocks on a full pipe). */
function drainTail(stream: Readable, onData?: (all: string) => boolean): { text: () => string } {
  let tail = '';
  let watching = onData !== undefined;
  stream.setEncoding('utf8');
  stream.on('data', (s: string) => {
    tail += s;
    if (watching && onData!(tail)) watching = false;
    if (!watching && tail.length > 2 * STDERR_TAIL) tail = tail.slice(-STDERR_TAIL);
  });
  return { text: () => tail.slice(-STDERR_TAIL).trim() };
}

/** Resolves with the exit code (or signal name) once the process has exited. */
function exited(proc: ChildProcess): Promise<number | string> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  if (proc.signalCode !== null) return Promise.resolve(proc.signalCode);
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

/**
 * Size and frame rate of the raw RGB stream from ffmpeg's stderr at `-loglevel info`: the
 * `Output #0` video stream line (after any rotation ffmpeg applies), e.g.
 * `Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, …), 64x48 [SAR 1:1 DAR 4:3], q=2-31, 368 kb/s, 5 fps, 5 tbn`.
 * The frame rate falls back to the input stream's `fps` or `tbr`. Returns undefined until the line
 * has been printed.
 */
export function parseVideoInfo(stderr: string): VideoInfo | undefined {
  const out = stderr.indexOf('Output #0');
  if (out < 0) return undefined;
  const line = /Stream #\d+:\d+[^\n]*?: Video: rawvideo[^\n]*/.exec(stderr.slice(out))?.[0];
  const size = line && /, (\d+)x(\d+)/.exec(line);
  if (!line || !size) return undefined;
  const input = /Input #0[\s\S]*?Stream #\d+:\d+[^\n]*?: Video:([^\n]*)/.exec(stderr)?.[1] ?? '';
  const rate = (s: string, unit: string): number | undefined => {
    const m = new RegExp(`([\\d.]+)(k?) ${unit}\\b`).exec(s);
    return m ? Number(m[1]) * (m[2] ? 1000 : 1) : undefined;
  };
  const fps = rate(line, 'fps') ?? rate(input, 'fps') ?? rate(input, 'tbr');
  if (!(fps !== undefined && fps > 0)) throw new Error(`cannot tell the frame rate from ffmpeg's description of the stream: ${line.trim()}`);
  return { width: Number(size[1]), height: Number(size[2]), fps };
}

/** Decodes a video's first video stream to RGB frames (rgb24, H×W×3 bytes each). */
export class VideoReader {
  private constructor(
    private readonly path: string,
    private readonly proc: ChildProcess,
    private readonly stderr: { text: () => string },
    readonly info: VideoInfo,
  ) {}

  /** Starts ffmpeg on `path` and waits until it has said the frame size and rate. */
  static async open(path: string, o: FfmpegOptions = {}): Promise<VideoReader> {
    const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-i', path, '-map', '0:v:0', '-an', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
    const proc = await spawnFfmpeg(o.ffmpeg ?? 'ffmpeg', args, 'ignore');
    proc.stdout!.on('readable', () => {});
    let found: (info: VideoInfo) => void = () => {};
    let failed: (e: Error) => void = () => {};
    const header = new Promise<VideoInfo>((resolve, reject) => {
      found = resolve;
      failed = reject;
    });
    const stderr = drainTail(proc.stderr!, (text) => {
      try {
        const info = parseVideoInfo(text);
        if (info) found(info);
        return info !== undefined;
      } catch (e) {
        failed(e as Error);
        return true;
      }
    });
    // stdout stays paused until frames() reads it: its bytes wait in the pipe meanwhile. The
    // 'readable' listener marks it as in use: Node discards unread stdio of an exited child
    // otherwise, and a short video can be decoded completely before the first frame is read. ffmpeg
    // closes stderr when it exits; if that comes before the stream description, it failed.
    const early = once(proc.stderr!, 'end').then(async () => {
      throw new Error(`ffmpeg could not read ${path} (exit ${await exited(proc)}): ${stderr.text() || 'no message'}`);
    });
    early.catch(() => {}); // after a successful open it settles unobserved when the video ends
    try {
      return new VideoReader(path, proc, stderr, await Promise.race([header, early]));
    } catch (e) {
      proc.kill();
      throw e;
    }
  }

  /** The frames in order, each a fresh H×W×3 buffer; throws if ffmpeg fails or the last frame is cut short. */
  async *frames(): AsyncGenerator<Uint8Array> {
    const size = this.info.width * this.info.height * 3;
    let frame = new Uint8Array(size);
    let filled = 0;
    for await (const chunk of this.proc.stdout! as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(size - filled, chunk.length - off);
        frame.set(chunk.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === size) {
          yield frame;
          frame = new Uint8Array(size);
          filled = 0;
        }
      }
    }
    const code = await exited(this.proc);
    if (code !== 0) throw new Error(`ffmpeg failed while decoding ${this.path} (exit ${code}): ${this.stderr.text()}`);
    if (filled !== 0) throw new Error(`${this.path}: the last frame is incomplete (${filled} of ${size} bytes)`);
  }

  /** Stops ffmpeg (when frames were not read to the end). */
  close(): void {
    this.proc.stdout!.destroy();
    // SIGKILL: ffmpeg defers SIGTERM while blocked on a pipe, and nothing it holds needs saving.
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/**
 * Encodes RGB frames to an MP4 file (ffmpeg's default MP4 codec, H.264 where built in; yuv420p so
 * players accept it, which needs even sizes: an odd width or height gets one black column or row).
 * The file appears under its name only when complete: frames go to a temporary file in the same
 * folder that is renamed on {@link VideoWriter.finish}.
 */
export class VideoWriter {
  private failure: Error | undefined;

  private constructor(
    private readonly path: string,
    private readonly tmp: string,
    private readonly proc: ChildProcess,
    private readonly stderr: { text: () => string },
    readonly info: VideoInfo,
  ) {
    // A dead ffmpeg makes writes fail with EPIPE: remember it and report ffmpeg's own message.
    proc.stdin!.on('error', (e) => (this.failure ??= e));
  }

  /** Starts ffmpeg writing `path` (an .mp4) from frames of `info`'s size and rate. */
  static async open(path: string, info: VideoInfo, o: FfmpegOptions = {}): Promise<VideoWriter> {
    const { width, height, fps } = info;
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0 && fps > 0)) throw new Error(`VideoWriter: bad video format ${width}×${height} at ${fps} fps`);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const args = [
      ...['-hide_banner', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0'],
      ...['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-pix_fmt', 'yuv420p', '-f', 'mp4', '-y', tmp],
    ];
    const proc = await spawnFfmpeg(o.ffmpeg ?? 'ffmpeg', args, 'pipe');
    proc.stdout!.resume();
    return new VideoWriter(path, tmp, proc, drainTail(proc.stderr!), info);
  }

  /** Sends one H×W×3 RGB frame, waiting while ffmpeg's input pipe is full. */
  async write(frame: Uint8Array): Promise<void> {
    const size = this.info.width * this.info.height * 3;
    if (frame.length !== size) throw new Error(`VideoWriter.write: frame has ${frame.length} bytes; expected ${this.info.width}×${this.info.height}×3 = ${size}`);
    if (this.failure) throw await this.error();
    if (!this.proc.stdin!.write(frame)) {
      await Promise.race([once(this.proc.stdin!, 'drain'), exited(this.proc)]);
      if (this.failure || this.proc.exitCode !== null) throw await this.error();
    }
  }

  /** Ends the stream, waits for ffmpeg, makes the file durable and moves it to its name. */
  async finish(): Promise<void> {
    this.proc.stdin!.end();
    const code = await exited(this.proc);
    if (code !== 0 || this.failure) throw await this.error();
    const fh = await open(this.tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(this.tmp, this.path);
  }

  /** Stops ffmpeg and removes the partial file. */
  async abort(): Promise<void> {
    this.proc.stdin!.destroy();
    // SIGKILL: ffmpeg defers SIGTERM while blocked on a pipe, and the partial file is deleted anyway.
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await exited(this.proc);
    await rm(this.tmp, { force: true });
  }

  private async error(): Promise<Error> {
    const code = await exited(this.proc);
    await rm(this.tmp, { force: true });
    return new Error(`ffmpeg failed writing ${this.path} (exit ${code}): ${this.stderr.text() || this.failure?.message || 'no message'}`);
  }
}
