// `npm run build:web`: the browser build of segkit.
//  1. dist/web/segkit.js — src/browser.ts and onnxruntime-web as one ES module (esbuild), with
//     onnxruntime-web's wasm files beside it, where onnxruntime-web looks for them by default.
//  2. dist/web-app/ — the Vite web app (web/), with the wasm files and the shipped models copied in.
// Usage: tsx scripts/build-web.ts [--lib] [--app]   (both when neither is given)
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ORT_FILES, ortDistDir } from '../web/assets.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

export async function buildLibrary(outDir = join(root, 'dist/web')): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = join(outDir, 'segkit.js');
  await esbuild.build({
    entryPoints: [join(root, 'src/browser.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  mkdirSync(outDir, { recursive: true });
  for (const f of ORT_FILES) copyFileSync(join(ortDistDir(), f), join(outDir, f));
  return outfile;
}

export async function buildApp(): Promise<string> {
  const { build } = await import('vite');
  await build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'warn' });
  return join(root, 'dist/web-app');
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--lib' && a !== '--app');
  if (unknown.length) {
    console.error(`build-web: unknown argument ${unknown.join(' ')} (expected --lib and/or --app)`);
    process.exit(2);
  }
  const all = args.length === 0;
  if (all || args.includes('--lib')) console.log(`library bundle: ${await buildLibrary()}`);
  if (all || args.includes('--app')) console.log(`web app: ${await buildApp()}`);
}
