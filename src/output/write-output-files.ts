import { randomBytes } from 'node:crypto';
import { readFile as readFileCallback, writeFile as writeFileCallback } from 'node:fs';
import { mkdir, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { BriefingError } from '../errors.js';

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

// The callback API: several times faster than fs/promises' FileHandle path for many small files.
const readFile = promisify(readFileCallback);
const writeFile = promisify(writeFileCallback);

/** Writes at most this many files at once: enough to keep the disk busy, few enough for file handles. */
const CONCURRENCY = 8;

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

async function readExisting(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes files into `outputDir`, each atomically: the bytes go to a temporary file in the same folder
 * which is then renamed over the old one, so a reader (or the web server) sees the old file or the new
 * one, never half of one. A file whose bytes are unchanged is not touched (its mtime, and so the
 * server's Last-Modified, stay). Paths that would leave `outputDir` (`..`, absolute, or through a
 * symbolic link) are refused before anything is written. A full disk, a read-only folder or missing
 * permissions end in a BriefingError naming the file; files not yet replaced keep their old bytes.
 * Files are written in the map's order, a few at a time.
 */
export async function writeOutputFiles(outputDir: string, files: OutputFiles): Promise<WriteResult> {
  const root = path.resolve(outputDir);
  const jobs = [...files].map(([relative, contents], index) => ({
    index,
    relative,
    target: resolveInside(root, relative),
    bytes: typeof contents === 'string' ? Buffer.from(contents, 'utf8') : Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength),
  }));
  let realRoot: string;
  try {
    await mkdir(root, { recursive: true });
    realRoot = await realpath(root);
  } catch (error) {
    throw writeFailure(root, error);
  }

  const folders = new Map<string, Promise<void>>();
  const ensureFolder = (folder: string, relative: string): Promise<void> => {
    let ready = folders.get(folder);
    if (ready === undefined) {
      ready = (async () => {
        await mkdir(folder, { recursive: true });
        const real = await realpath(folder);
        if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) throw refuse(relative, 'a symbolic link on its path leads outside the output folder');
      })();
      folders.set(folder, ready);
    }
    return ready;
  };

  // Random, not just pid + counter: a build killed midway leaves its temporary file behind, and a later
  // process may well get the same pid (containers start from 1).
  const temporaryTag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  let temporaryCount = 0;
  const status: Array<'written' | 'unchanged'> = [];
  const writeOne = async (job: (typeof jobs)[number]): Promise<void> => {
    const folder = path.dirname(job.target);
    const temporary = path.join(folder, `.${path.basename(job.target)}.${temporaryTag}-${(temporaryCount += 1)}.tmp`);
    try {
      await ensureFolder(folder, job.relative);
      if (sameBytes(await readExisting(job.target), job.bytes)) {
        status[job.index] = 'unchanged';
        return;
      }
      // `wx`: never write through a file (or link) that happens to have the temporary name.
      await writeFile(temporary, job.bytes, { flag: 'wx' });
      await rename(temporary, job.target);
      status[job.index] = 'written';
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw error instanceof BriefingError ? error : writeFailure(job.target, error);
    }
  };

  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < jobs.length) {
      const job = jobs[next] as (typeof jobs)[number];
      next += 1;
      try {
        await writeOne(job);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;

  const result: WriteResult = { written: [], unchanged: [] };
  for (const job of jobs) result[status[job.index] as 'written' | 'unchanged'].push(job.relative);
  return result;
}
