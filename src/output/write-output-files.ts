import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { BriefingError } from '../errors.js';
import { processAlive } from '../process-alive.js';

/**
 * The name a file is written under before it is renamed into place: `.NAME.PID-HOST-RANDOM-N.tmp`,
 * HOST a digest of the host's name (older versions wrote none), so a pid is only ever judged on the
 * host that gave it (an output folder may be shared between containers or machines).
 */
const TEMPORARY_NAME = /^\..+\.(\d+)-(?:([0-9a-f]{8})-)?[0-9a-f]{12}-\d+\.tmp$/;
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/**
 * Older than writing and renaming one file ever takes, with room for the clock of a shared folder's
 * server to be ahead of this one's: a temporary file this old was abandoned, whoever made it.
 */
const TEMPORARY_LIFETIME_MS = 10 * 60_000;

/**
 * Whether a file of an output folder is a temporary file of a build that ended before renaming it
 * (killed midway): made on this host by a process that is gone, or older than any write takes. One
 * of a build still writing (this one's, or another process's anywhere) is neither.
 */
export function abandonedTemporary(name: string, modifiedMs: () => number, nowMs: number): boolean {
  const match = TEMPORARY_NAME.exec(name);
  if (match === null) return false;
  const pid = Number(match[1]);
  const ended = match[2] === HOST_TAG && Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
  return ended || nowMs - modifiedMs() > TEMPORARY_LIFETIME_MS;
}

/** Which files a write changed and which already held the same bytes (and kept their mtime). */
export interface WriteResult {
  written: string[];
  unchanged: string[];
}

/** File contents by path relative to the output folder. */
export type OutputFiles = ReadonlyMap<string, string | Uint8Array>;

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a file stands where a folder on its path should be',
  // mkdir's answer when a file has the name of a folder to create.
  EEXIST: 'a file stands where a folder on its path should be',
  EISDIR: 'a folder is in the way',
};

function display(file: string): string {
  return path.relative(process.cwd(), file) || file;
}

function writeFailure(file: string, error: unknown): BriefingError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === undefined ? String(error) : `${REASONS[code] ?? 'the file system refused'} (${code})`;
  return new BriefingError('output', 'write-failed', `cannot write ${display(file)}: ${reason}; the previous file is left as it was`, {
    cause: error,
  });
}

function refuse(relative: string, why: string): BriefingError {
  return new BriefingError('output', 'unsafe-path', `refusing to write ${JSON.stringify(relative)}: ${why}`);
}

/** The absolute path of `relative` inside `root`, or an error when it would lead anywhere else. */
function resolveInside(root: string, relative: string): string {
  if (relative === '' || relative.includes('\0')) throw refuse(relative, 'not a file name');
  if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) throw refuse(relative, 'it leads outside the output folder');
  const target = path.resolve(root, relative);
  const inside = path.relative(root, target);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) throw refuse(relative, 'it leads outside the output folder');
  return target;
}

function sameBytes(existing: Buffer | undefined, bytes: Buffer): boolean {
  return existing !== undefined && existing.equals(bytes);
}

function readExisting(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes files into `outputDir`, each atomically: the bytes go to a temporary file in the same folder
 * which is then renamed over the old one, so a reader (or the web server) sees the old file or the new
 * one, never half of one. A file whose bytes are unchanged is not touched (its mtime, and so the
 * server's Last-Modified, stay); `absent` may name files known not to exist, which are then not looked
 * for first. Paths that would leave `outputDir` (`..`, absolute, or through a symbolic link) are
 * refused before anything is written. A full disk, a read-only folder or missing permissions end in a
 * BriefingError naming the file; files not yet replaced keep their old bytes. Files are written in
 * the map's order, one after the other and synchronously: for the small files of a site, the system
 * calls cost less than handing each to the thread pool and back (half of a build's system time).
 */
export async function writeOutputFiles(outputDir: string, files: OutputFiles, options: { absent?: (relative: string) => boolean } = {}): Promise<WriteResult> {
  const root = path.resolve(outputDir);
  const jobs = [...files].map(([relative, contents]) => ({
    relative,
    target: resolveInside(root, relative),
    bytes: typeof contents === 'string' ? Buffer.from(contents, 'utf8') : Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength),
  }));
  let realRoot: string;
  try {
    mkdirSync(root, { recursive: true });
    realRoot = realpathSync(root);
  } catch (error) {
    throw writeFailure(root, error);
  }

  const folders = new Set<string>();
  const ensureFolder = (folder: string, relative: string): void => {
    if (folders.has(folder)) return;
    mkdirSync(folder, { recursive: true });
    const real = realpathSync(folder);
    if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) throw refuse(relative, 'a symbolic link on its path leads outside the output folder');
    folders.add(folder);
  };

  // Random, not just pid + counter: a build killed midway leaves its temporary file behind (a later
  // build removes it, see abandonedTemporary), and a later process may well get the same pid.
  const temporaryTag = `${process.pid}-${HOST_TAG}-${randomBytes(6).toString('hex')}`;
  let temporaryCount = 0;
  const result: WriteResult = { written: [], unchanged: [] };
  for (const job of jobs) {
    const folder = path.dirname(job.target);
    const temporary = path.join(folder, `.${path.basename(job.target)}.${temporaryTag}-${(temporaryCount += 1)}.tmp`);
    try {
      ensureFolder(folder, job.relative);
      if (options.absent?.(job.relative) !== true && sameBytes(readExisting(job.target), job.bytes)) {
        result.unchanged.push(job.relative);
        continue;
      }
      // `wx`: never write through a file (or link) that happens to have the temporary name.
      writeFileSync(temporary, job.bytes, { flag: 'wx' });
      renameSync(temporary, job.target);
      result.written.push(job.relative);
    } catch (error) {
      try {
        rmSync(temporary, { force: true });
      } catch {
        // Never made (its folder could not be): nothing to remove.
      }
      throw error instanceof BriefingError ? error : writeFailure(job.target, error);
    }
  }
  return result;
}
