// A tiny static file server for the browser tests and bench/web.ts: folders mounted at URL
// prefixes, served with the COOP/COEP headers that make the page cross-origin isolated (threads).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { CONTENT_TYPES, ISOLATION_HEADERS } from '../../web/assets.js';

export interface Mount {
  /** URL prefix, starting and ending with '/'. */
  prefix: string;
  dir: string;
}

export interface StaticServer {
  url: string;
  /** Requests answered 404, for error messages. */
  missing: string[];
  close(): Promise<void>;
}

/** Serves the mounts (longest prefix first) on 127.0.0.1 at a free port. */
export async function startStaticServer(mounts: Mount[]): Promise<StaticServer> {
  const sorted = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  const missing: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const mount = sorted.find((m) => path.startsWith(m.prefix));
    let file = mount ? normalize(join(mount.dir, path.slice(mount.prefix.length))) : '';
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!mount || !(file + sep).startsWith(normalize(mount.dir + sep)) || !existsSync(file)) {
      missing.push(path);
      res.writeHead(404, { 'Content-Type': 'text/plain', ...ISOLATION_HEADERS }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': 'no-store',
      ...ISOLATION_HEADERS,
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    missing,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
