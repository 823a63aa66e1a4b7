// Headless Chromium for the browser tests and bench/web.ts: Debian's `chromium` package driven by
// playwright-core (no browser download). Tests skip with a message where it is not installed.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

/** $CHROMIUM, else Debian's /usr/bin/chromium, if present. */
export function chromiumPath(): string | undefined {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p && existsSync(p)) return p;
  return undefined;
}

export const NO_CHROMIUM = 'headless Chromium not found (install Debian chromium: apt-get install chromium, or set CHROMIUM=/path/to/chrome); browser tests skipped';

/**
 * Launches headless Chromium; `fakeVideo` (a .y4m file) becomes the webcam, permission granted.
 * `webgpu` exposes WebGPU, which Chromium on Linux keeps behind `--enable-unsafe-webgpu`; with
 * `--disable-gpu` the adapter is SwiftShader's software one.
 */
export async function launchChromium(o: { fakeVideo?: string; webgpu?: boolean } = {}): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  const { chromium } = await import('playwright-core');
  const args = ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'];
  if (o.webgpu) args.push('--enable-unsafe-webgpu');
  if (o.fakeVideo) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${o.fakeVideo}`);
  return chromium.launch({ executablePath, headless: true, args });
}

/** Collects the page's console errors and uncaught exceptions, for failure messages. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/** Waits until `fn` (run in the page) is truthy; the error names what was awaited and the page's state. */
export async function waitForPage<T>(page: Page, fn: string, what: string, timeoutMs: number, errors: string[]): Promise<T> {
  try {
    const handle = await page.waitForFunction(fn, undefined, { timeout: timeoutMs, polling: 100 });
    return (await handle.jsonValue()) as T;
  } catch (e) {
    const status = await page.evaluate(() => document.getElementById('status')?.textContent ?? '').catch(() => '');
    throw new Error(`${what}: not done within ${timeoutMs / 1000} s (page status: '${status}'; page errors: ${errors.join(' | ') || 'none'}): ${(e as Error).message.split('\n')[0]}`);
  }
}
