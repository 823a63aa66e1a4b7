/**
 * The web app (web/index.html: webcam person segmentation; web/road.html: CamVid road scenes).
 * `npm run build:web` builds it into dist/web-app with onnxruntime-web's wasm files and the shipped
 * models copied beside it; `npm run web:dev` / `web:preview` serve it cross-origin isolated (COOP/COEP),
 * so onnxruntime-web can use threads.
 */
import { copyFileSync, createReadStream, mkdirSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { CONTENT_TYPES, ISOLATION_HEADERS, servedFiles } from './assets.js';

const webRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(webRoot, '..');

/** Serves ort/ and models/ from where they are (dev) and copies them into the build (build). */
function segkitFiles(): Plugin {
  return {
    name: 'segkit-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]!).replace(/^\/+/, '');
        const file = servedFiles(repoRoot).find((f) => f.to === path);
        if (!file) return next();
        res.setHeader('Content-Type', CONTENT_TYPES[extname(file.to)] ?? 'application/octet-stream');
        res.setHeader('Content-Length', statSync(file.from).size);
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
        createReadStream(file.from).pipe(res);
      });
    },
    writeBundle(options) {
      const out = options.dir ?? resolve(repoRoot, 'dist/web-app');
      for (const f of servedFiles(repoRoot)) {
        const to = resolve(out, f.to);
        mkdirSync(dirname(to), { recursive: true });
        copyFileSync(f.from, to);
      }
    },
  };
}

export default defineConfig({
  root: webRoot,
  base: './',
  publicDir: false,
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  // onnxruntime-web's build that loads its wasm module from `wasmPaths` (ort/, copied by segkitFiles)
  // rather than embedding the loader and making Vite emit a second 28 MB copy of the .wasm.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // The webcam page's model worker is a module worker: onnxruntime-web import()s its wasm loader.
  worker: { format: 'es' },
  build: {
    outDir: resolve(repoRoot, 'dist/web-app'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    rollupOptions: { input: { index: resolve(webRoot, 'index.html'), road: resolve(webRoot, 'road.html') } },
  },
  plugins: [segkitFiles()],
});
