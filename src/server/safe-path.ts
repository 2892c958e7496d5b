import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** Where a request path leads inside output/. */
export type OutputPath =
  | { kind: 'file'; file: string; relative: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'bad-request' }
  | { kind: 'not-found' };

/** Top-level folders of output/ that are never served (the local outbox holds subscribers' mail). */
const PRIVATE_FOLDERS = new Set(['outbox']);

/**
 * Maps a request's percent-encoded pathname to a regular file inside `root`, or says why not.
 * Dot segments, encoded separators (`%2f`, `%5c`), double encoding, backslashes and control characters are a bad
 * request; hidden files, private folders and anything whose real path (after symlinks) leaves `root`
 * are not found. A directory asked for without its slash redirects to the slashed path.
 */
export async function resolveOutputPath(root: string, rawPathname: string): Promise<OutputPath> {
  if (!rawPathname.startsWith('/') || rawPathname.includes('\\') || /%(2f|5c)/i.test(rawPathname)) {
    return { kind: 'bad-request' };
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPathname);
  } catch {
    return { kind: 'bad-request' };
  }
  // A `%` left after one decoding is double encoding (`%252e`): our files never have one in their name.
  if (/[\u0000-\u001f\u007f\\%]/.test(decoded)) {
    return { kind: 'bad-request' };
  }
  const segments = decoded.slice(1).split('/');
  const wantsDirectory = segments.at(-1) === '';
  if (wantsDirectory) segments.pop();
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return { kind: 'bad-request' };
  }
  if (segments.some((segment) => segment === '' || segment.startsWith('.')) || PRIVATE_FOLDERS.has(segments[0] ?? '')) {
    return { kind: 'not-found' };
  }

  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return { kind: 'not-found' };
  }
  const requested = path.join(realRoot, ...segments);
  const target = await realInside(realRoot, requested);
  if (target === undefined) return { kind: 'not-found' };
  if (target.isDirectory) {
    if (!wantsDirectory) {
      const last = rawPathname.slice(rawPathname.lastIndexOf('/') + 1);
      return { kind: 'redirect', location: `${last}/` };
    }
    const index = await realInside(realRoot, path.join(target.file, 'index.html'));
    return index?.isFile ? { kind: 'file', file: index.file, relative: toRelative(realRoot, index.file) } : { kind: 'not-found' };
  }
  if (wantsDirectory || !target.isFile) return { kind: 'not-found' };
  return { kind: 'file', file: target.file, relative: toRelative(realRoot, target.file) };
}

/** The real path of `candidate` and its kind, if it exists and stays inside `realRoot`. */
async function realInside(realRoot: string, candidate: string): Promise<{ file: string; isFile: boolean; isDirectory: boolean } | undefined> {
  let real: string;
  let info: Stats;
  try {
    real = await realpath(candidate);
    info = await stat(real);
  } catch {
    return undefined;
  }
  const relative = path.relative(realRoot, real);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  if (relative.split(path.sep).some((segment) => segment.startsWith('.')) || PRIVATE_FOLDERS.has(relative.split(path.sep)[0] ?? '')) {
    return undefined;
  }
  return { file: real, isFile: info.isFile(), isDirectory: info.isDirectory() };
}

function toRelative(realRoot: string, file: string): string {
  return path.relative(realRoot, file).split(path.sep).join('/');
}
