import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { isNotModified } from './conditional.js';
import { chooseContentCoding, type ContentCoding } from './content-coding.js';
import { mediaTypeOf, type MediaType } from './media-types.js';
import { resolveOutputPath } from './safe-path.js';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Smaller bodies are sent as they are: compressing them saves nothing. */
const MIN_COMPRESS_BYTES = 512;

/** How a file was answered, for the caller to turn into a response. */
export type StaticResult =
  | { kind: 'response'; status: 200 | 304; headers: Headers; body: Uint8Array | null; relative: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'bad-request' }
  | { kind: 'not-found' };

/** Serves the files of output/ for GET and HEAD. */
export interface StaticFiles {
  serve(rawPathname: string, requestHeaders: Headers): Promise<StaticResult>;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  ino: number;
  body: Buffer;
  hash: string;
  lastModified: Date;
  mediaType: MediaType;
  coded: Map<ContentCoding, Buffer>;
  bytes: number;
}

/**
 * Serves output/ with strong ETags (a hash of the bytes), Last-Modified (the file's mtime: the build
 * leaves unchanged files untouched), 304s, brotli or gzip when asked, and cache lifetimes by kind.
 * Hashes and compressed bodies are kept in a bounded LRU cache keyed by real path, mtime and size.
 */
export function createStaticFiles(options: { root: string; cacheBytes?: number }): StaticFiles {
  const cacheLimit = options.cacheBytes ?? 64 * 1024 * 1024;
  const cache = new Map<string, CachedFile>();
  let cachedBytes = 0;

  const evictBeyondLimit = (keep: string): void => {
    for (const [key, old] of cache) {
      if (cachedBytes <= cacheLimit) break;
      if (key === keep) continue;
      cache.delete(key);
      cachedBytes -= old.bytes;
    }
  };

  const remember = (file: string, entry: CachedFile): void => {
    const previous = cache.get(file);
    if (previous) cachedBytes -= previous.bytes;
    cache.delete(file);
    cache.set(file, entry);
    cachedBytes += entry.bytes;
    evictBeyondLimit(file);
  };

  const load = async (file: string): Promise<CachedFile> => {
    const info = await stat(file);
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size && cached.ino === info.ino) {
      // Re-inserting keeps the map in least-recently-used order.
      cache.delete(file);
      cache.set(file, cached);
      return cached;
    }
    const body = await readFile(file);
    const entry: CachedFile = {
      mtimeMs: info.mtimeMs,
      size: info.size,
      ino: info.ino,
      body,
      hash: createHash('sha256').update(body).digest('base64url').slice(0, 32),
      lastModified: new Date(Math.floor(info.mtimeMs / 1000) * 1000),
      mediaType: mediaTypeOf(file, body),
      coded: new Map(),
      bytes: body.length,
    };
    remember(file, entry);
    return entry;
  };

  const encoded = async (file: string, entry: CachedFile, coding: ContentCoding): Promise<Buffer> => {
    if (coding === 'identity') return entry.body;
    const known = entry.coded.get(coding);
    if (known) return known;
    const body =
      coding === 'br'
        ? await brotli(entry.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: entry.body.length } })
        : await gzipAsync(entry.body, { level: 9 });
    entry.coded.set(coding, body);
    entry.bytes += body.length;
    if (cache.get(file) === entry) {
      cachedBytes += body.length;
      evictBeyondLimit(file);
    }
    return body;
  };

  return {
    async serve(rawPathname, requestHeaders) {
      const resolved = await resolveOutputPath(options.root, rawPathname);
      if (resolved.kind !== 'file') return resolved;
      let entry: CachedFile;
      try {
        entry = await load(resolved.file);
      } catch {
        return { kind: 'not-found' };
      }
      const compressible = entry.mediaType.compressible;
      const coding = compressible && entry.body.length >= MIN_COMPRESS_BYTES ? chooseContentCoding(requestHeaders.get('accept-encoding')) : 'identity';
      const etags = { identity: `"${entry.hash}"`, br: `"${entry.hash}-br"`, gzip: `"${entry.hash}-gz"` };
      const headers = new Headers({
        'content-type': entry.mediaType.contentType,
        etag: etags[coding],
        'last-modified': entry.lastModified.toUTCString(),
        'cache-control': cacheControlFor(resolved.relative),
      });
      if (compressible) headers.set('vary', 'Accept-Encoding');
      const validators = { etag: etags[coding], sameContent: Object.values(etags), lastModified: entry.lastModified };
      if (isNotModified(requestHeaders, validators)) {
        return { kind: 'response', status: 304, headers, body: null, relative: resolved.relative };
      }
      const body = await encoded(resolved.file, entry, coding);
      if (coding !== 'identity') headers.set('content-encoding', coding);
      headers.set('content-length', String(body.length));
      return { kind: 'response', status: 200, headers, body, relative: resolved.relative };
    },
  };
}

/**
 * Files at the top (feeds, the front page, the style sheet) change with every build: readers must
 * revalidate after a few minutes. Archive feeds, article pages and editions change rarely: an hour.
 */
function cacheControlFor(relative: string): string {
  return relative.includes('/') ? 'public, max-age=3600' : 'public, max-age=300, must-revalidate';
}
