/**
 * Replacement backgrounds drawn procedurally (no image files to ship): gradients and shapes on a
 * 640×480 canvas, read back once as ImageData (static, so the effect caches its fitted copy).
 */
import { createCanvas, context2d } from '../../src/browser.js';

const W = 640;
const H = 480;

type Painter = (ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D) => void;

/** A small deterministic generator, so the stars are the same on every load. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const painters: Record<string, Painter> = {
  beach(ctx) {
    const sky = ctx.createLinearGradient(0, 0, 0, H * 0.55);
    sky.addColorStop(0, '#4a90d9');
    sky.addColorStop(1, '#bfe3f7');
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = '#fff3b0';
    ctx.beginPath();
    ctx.arc(W * 0.78, H * 0.18, 38, 0, 2 * Math.PI);
    ctx.fill();
    const sea = ctx.createLinearGradient(0, H * 0.55, 0, H * 0.72);
    sea.addColorStop(0, '#1b6ca8');
    sea.addColorStop(1, '#3fb0c9');
    ctx.fillStyle = sea;
    ctx.fillRect(0, H * 0.55, W, H * 0.17);
    ctx.fillStyle = '#e8d3a0';
    ctx.fillRect(0, H * 0.72, W, H * 0.28);
  },
  night(ctx) {
    const sky = ctx.createLinearGradient(0, 0, 0, H);
    sky.addColorStop(0, '#050a24');
    sky.addColorStop(1, '#27305e');
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, W, H);
    const rand = lcg(7);
    ctx.fillStyle = '#ffffff';
    for (let i = 0; i < 220; i++) {
      const r = rand() * 1.6 + 0.3;
      ctx.globalAlpha = 0.4 + 0.6 * rand();
      ctx.beginPath();
      ctx.arc(rand() * W, rand() * H, r, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  },
  studio(ctx) {
    const g = ctx.createRadialGradient(W / 2, H * 0.4, 20, W / 2, H * 0.5, W * 0.7);
    g.addColorStop(0, '#d8d4cc');
    g.addColorStop(1, '#4d4a45');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, W, H);
  },
};

export const BACKGROUND_NAMES = Object.keys(painters);

const cache = new Map<string, ImageData>();

export function background(name: string): ImageData {
  const hit = cache.get(name);
  if (hit) return hit;
  const paint = painters[name];
  if (!paint) throw new Error(`no background '${name}' (backgrounds: ${BACKGROUND_NAMES.join(', ')})`);
  const canvas = createCanvas(W, H);
  const ctx = context2d(canvas, true);
  paint(ctx);
  const img = ctx.getImageData(0, 0, W, H);
  cache.set(name, img);
  return img;
}
