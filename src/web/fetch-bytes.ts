/**
 * Model downloads in the browser: the whole response as bytes, with optional progress, and errors
 * that say what was being fetched and why it failed (network error or HTTP status).
 */
import { concatBytes } from '../io/concat-bytes.js';

export interface FetchBytesOptions {
  /** How the failing request is named in errors, e.g. "createSegmenter: cannot fetch <url>". */
  what: string;
  /** Appended to an HTTP error (e.g. where files are expected to be served). */
  httpHint?: string;
  /** Download progress in bytes (`total` is 0 when the server sends no length). */
  onProgress?: (loaded: number, total: number) => void;
}

export async function fetchBytes(url: string, o: FetchBytesOptions): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${o.what}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new Error(`${o.what}: HTTP ${res.status} ${res.statusText}${o.httpHint ?? ''}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  if (!o.onProgress || !res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    o.onProgress(loaded, total);
  }
  return concatBytes(chunks);
}
