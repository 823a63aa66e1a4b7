#!/usr/bin/env node
// The `segkit` command. An installed package runs the compiled CLI in dist/; a source checkout
// without a build runs the TypeScript sources through tsx, so `npx segkit` works in both.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/src/cli/main.js`;
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(`${root}src/cli/main.ts`).href);
}
