// A fake webcam for Chromium (--use-file-for-fake-video-capture): a short Y4M clip made with ffmpeg
// from OpenCV's pedestrian video vtest.avi (Debian opencv-doc).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

/** vtest.avi from opencv-doc ($VTEST_AVI overrides; else the path dpkg lists), if installed. */
export function findVtest(): string | undefined {
  if (process.env.VTEST_AVI && existsSync(process.env.VTEST_AVI)) return process.env.VTEST_AVI;
  if (existsSync(VTEST)) return VTEST;
  const r = spawnSync('dpkg', ['-L', 'opencv-doc'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').find((l) => l.endsWith('/vtest.avi') && existsSync(l)) : undefined;
}

export function hasFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

export interface ClipOptions {
  seconds: number;
  width: number;
  height: number;
  fps: number;
}

/** Writes `<dir>/camera.y4m`: the first seconds of vtest.avi, scaled, 4:2:0 (what Chromium's fake capture reads). */
export function makeY4m(src: string, dir: string, o: ClipOptions): string {
  const out = join(dir, 'camera.y4m');
  execFileSync('nice', ['-n', '19', 'ffmpeg', '-v', 'error', '-y', '-i', src, '-t', String(o.seconds), '-vf', `scale=${o.width}:${o.height},fps=${o.fps}`, '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', out]);
  return out;
}

/** Frame `index` of a video as RGB bytes at w×h (ffmpeg's conversion), to calibrate a test model. */
export function videoFrameRgb(src: string, index: number, w: number, h: number, fps: number): Uint8Array {
  const buf = execFileSync('nice', ['-n', '19', 'ffmpeg', '-v', 'error', '-i', src, '-vf', `scale=${w}:${h},fps=${fps},select=eq(n\\,${index})`, '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], { maxBuffer: 64 * 2 ** 20 });
  if (buf.length !== w * h * 3) throw new Error(`ffmpeg gave ${buf.length} bytes for a ${w}×${h} RGB frame of ${src}`);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}
