import { OutputPathMap } from './output-path-map.js';

/** Where the incremental build keeps its notes; a dot file, so the web server never serves it. */
export const MANIFEST_PATH = '.build-manifest.json';

/**
 * The files a build is about to render, written before the first of them and removed once the new
 * manifest is in place. Should the build stop in between, the old manifest still vouches for files
 * it may have replaced: the next build takes none of these for up to date (an edit undone since would
 * otherwise find its old key in the manifest and leave the newer bytes). A short list where the
 * manifest is an entry per file: a rebuild after one edit writes a few names, not the whole manifest twice.
 */
export const PENDING_PATH = '.build-pending.json';

/** What the last build produced, so the next one re-renders only what changed. */
export interface BuildManifest {
  version: 2;
  /** Everything besides the articles that shaped every file: another one means every file is made again. */
  buildKey: string;
  /** For each file the build wrote (path relative to output/), the key of the articles and links it was made from. */
  outputs: OutputPathMap<string>;
}

/**
 * Reads a manifest; a missing or damaged one yields undefined, which means a full build. One of
 * version 1 (keys with the build key folded in) comes with an empty build key: everything is made
 * again, and the files it names that are no longer made are still removed. Checked by hand, not by a
 * schema: it has an entry per file, ten thousand and more.
 */
export function parseManifest(text: string | undefined): BuildManifest | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as { version?: unknown; buildKey?: unknown; outputs?: unknown } | null;
    const buildKey = parsed?.version === 1 ? '' : parsed?.version === 2 ? parsed.buildKey : undefined;
    if (typeof buildKey !== 'string' || typeof parsed?.outputs !== 'object' || parsed.outputs === null) return undefined;
    const outputs = Object.entries(parsed.outputs as Record<string, unknown>);
    for (const [, key] of outputs) if (typeof key !== 'string') return undefined;
    return { version: 2, buildKey, outputs: OutputPathMap.of(outputs as Array<[string, string]>) };
  } catch {
    return undefined;
  }
}

/** The pending list of the files a build renders (see PENDING_PATH). */
export function serializePending(paths: Iterable<string>): Buffer {
  return Buffer.from(`${JSON.stringify([...paths])}\n`, 'utf8');
}

/**
 * The last build's manifest vouching for none of the files a build that stopped halfway may have
 * replaced: those named in its pending list. A pending list that cannot be read vouches for nothing,
 * so neither does the manifest (everything is made again).
 */
export function withoutPending(manifest: BuildManifest | undefined, pendingText: string | undefined): BuildManifest | undefined {
  if (manifest === undefined || pendingText === undefined) return manifest;
  let pending: unknown;
  try {
    pending = JSON.parse(pendingText);
  } catch {
    return undefined;
  }
  if (!Array.isArray(pending) || pending.some((entry) => typeof entry !== 'string')) return undefined;
  // Kept with a key no output has, not dropped, and added if the manifest never had it (the stopped
  // build may have written a page new since): a pending file that is no longer made is then still
  // the last build's, and so removed as stale.
  const outputs = manifest.outputs.copy();
  for (const path of pending as string[]) outputs.set(path, '');
  return { ...manifest, outputs };
}

/**
 * A manifest as a build plans it: its entries listed when it is written, not held, since a build of a
 * hundred thousand articles has as many (each path and key would stay in memory for the whole build).
 */
export interface PlannedManifest {
  buildKey: string;
  /** Each file's path and key, in the order the plan lists them. */
  outputs(): Iterable<readonly [path: string, key: string]>;
  /** The same as the next build looks them up (a resident builder keeps them for its next build). */
  keys(): OutputPathMap<string>;
}

/** Characters of JSON encoded at a time: the manifest of a large site is made in pieces of this size, not as one string. */
const PIECE_CHARACTERS = 1 << 16;

/**
 * Serialises a manifest on one line, its paths in the order the plan lists them: the same for the
 * same articles, so equal builds give equal bytes. The same JSON as the object would give, as UTF-8,
 * encoded a piece at a time (a hundred thousand entries as one string, and a list of them, would each
 * cost as much as the bytes again).
 */
export function serializeManifest(manifest: Pick<PlannedManifest, 'buildKey' | 'outputs'>): Buffer {
  const pieces: Buffer[] = [];
  let piece = `{"version":2,"buildKey":${JSON.stringify(manifest.buildKey)},"outputs":{`;
  let first = true;
  for (const [path, key] of manifest.outputs()) {
    piece += `${first ? '' : ','}${JSON.stringify(path)}:${JSON.stringify(key)}`;
    first = false;
    if (piece.length >= PIECE_CHARACTERS) {
      pieces.push(Buffer.from(piece, 'utf8'));
      piece = '';
    }
  }
  pieces.push(Buffer.from(`${piece}}}\n`, 'utf8'));
  return Buffer.concat(pieces);
}
