/**
 * Maildir on disk (https://cr.yp.to/proto/maildir.html, Maildir++ folders as Dovecot and Courier
 * keep them): making folders, naming messages, delivering through tmp/ and moving a message into
 * another folder. Paths are Buffers, so a file name that is not UTF-8 is moved as it is.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { link, lstat, mkdir, open, opendir, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { BriefingError } from '../errors.js';

/** Joins path parts into one Buffer path (names read from disk stay bytes). */
export function maildirPath(...parts: ReadonlyArray<string | Buffer>): Buffer {
  const buffers = parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part));
  return Buffer.concat(buffers.flatMap((part, index) => (index === 0 ? [part] : [Buffer.from('/'), part])));
}

/** A path or file name for messages and logs: bytes outside printable ASCII as `\xNN`. */
export function printablePath(path: Buffer): string {
  return [...path].map((byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
}

/** The error for a Maildir part that is a file or a symlink where a directory belongs. */
export function notADirectory(path: Buffer): BriefingError {
  return new BriefingError('returns', 'maildir-not-a-directory', `${printablePath(path)} is not a directory (a symlink is not followed)`);
}

/**
 * Runs file work and turns a system error (EACCES, ENOSPC, EIO…) into one line naming `what`;
 * a BriefingError passes through as it is.
 */
export async function onDisk<T>(code: string, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BriefingError) throw error;
    throw new BriefingError('returns', code, `${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Creates `dir` (and missing parents) unless it is a directory; a symlink or a file there is refused, never followed. */
async function ensureDirectory(dir: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  if (!(await lstat(dir)).isDirectory()) throw notADirectory(dir);
}

/** Makes `dir` a Maildir (tmp/, new/, cur/) unless it is one. */
export async function ensureMaildir(dir: Buffer): Promise<void> {
  await ensureDirectory(dir);
  for (const sub of ['tmp', 'new', 'cur']) await ensureDirectory(maildirPath(dir, sub));
}

/** Makes the Maildir++ folder `segments` (`.Briefing.Handled`) under the Maildir `root`; returns its path. */
export async function ensureMaildirFolder(root: Buffer, segments: readonly string[]): Promise<Buffer> {
  const folder = maildirPath(root, `.${segments.join('.')}`);
  await ensureMaildir(folder);
  // Maildir++ marks a folder with an empty `maildirfolder` file (Courier and Dovecot write it).
  await (await open(maildirPath(folder, 'maildirfolder'), 'a', 0o600)).close();
  return folder;
}

/** A name no other delivery uses: time, microseconds, pid, random, host (Maildir's rule, `/` and `:` escaped). */
export function uniqueMessageName(): string {
  const now = Date.now();
  const host = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
  return `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}R${randomBytes(8).toString('hex')}.${host}`;
}

/**
 * Moves the file `source` to `dir/<base><info>` by link then unlink. rename(2) would silently
 * replace a message of the same name in `dir`; link(2) refuses (EEXIST), as in Maildir's own
 * delivery from tmp/ to new/, and the message then takes a fresh unique name. A crash between the
 * two steps leaves the message in both places: it is read again, never lost.
 * False when `source` is gone (another reader moved it first).
 */
export async function moveIntoFolder(source: Buffer, dir: Buffer, base: Buffer, info: string): Promise<boolean> {
  for (let attempt = 0; ; attempt += 1) {
    const name = attempt === 0 ? Buffer.concat([base, Buffer.from(info)]) : Buffer.from(`${uniqueMessageName()}${info}`);
    try {
      await link(source, maildirPath(dir, name));
      break;
    } catch (error) {
      if (isMissing(error)) return false;
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
    }
  }
  try {
    await unlink(source);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  return true;
}

/**
 * Delivers one message into the Maildir `dir` (made if missing): `write` fills a new file in tmp/,
 * which is synced and then linked into new/. A failed write leaves nothing behind.
 */
export async function deliverToMaildir(dir: Buffer, write: (file: FileHandle) => Promise<void>): Promise<void> {
  await ensureMaildir(dir);
  const name = uniqueMessageName();
  const temporary = maildirPath(dir, 'tmp', name);
  const file = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      await write(file);
      await file.sync();
    } finally {
      await file.close();
    }
    await moveIntoFolder(temporary, maildirPath(dir, 'new'), Buffer.from(name), '');
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * The entries of a directory, streamed (a huge folder is not listed into memory), names as bytes.
 * Node reads Buffer names when asked (`encoding: 'buffer'`); @types/node 20 leaves it out of opendir.
 */
export async function* directoryEntries(dir: Buffer): AsyncIterable<Dirent<Buffer>> {
  const handle = await opendir(dir, { encoding: 'buffer' as BufferEncoding });
  for await (const entry of handle) yield entry as unknown as Dirent<Buffer>;
}
