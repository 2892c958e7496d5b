import { BriefingError } from '../errors.js';

/** The error code a driver put on an error (`SQLITE_FULL`, `53100`, `ECONNREFUSED`), if any. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * A SQLite failure that is an operating condition (full disk, damaged or unreadable file, no write
 * access) as a one-line store error naming the file and what to do; anything else (a bug) as it was.
 */
export function sqliteFault(error: unknown, file: string): unknown {
  if (error instanceof BriefingError) return error;
  const code = codeOf(error);
  const fault = (name: string, message: string): BriefingError => new BriefingError('store', name, message, { cause: error });
  if (code === 'SQLITE_FULL') {
    return fault('store-full', `the disk holding the SQLite store ${file} is full (SQLITE_FULL): free some space, then run the command again (a send resumes where it stopped)`);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return fault('store-corrupt', `${file} is not a readable SQLite store (${code}): restore it from a backup, or move it aside to start an empty store`);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return fault('store-io', `reading or writing the SQLite store ${file} failed (${code}): check the disk it is on, then run the command again`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return fault('store-read-only', `the SQLite store ${file} cannot be written (${code}): give this user write access to it and its folder`);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return fault('store-unavailable', `cannot open the SQLite store ${file} (${code}): check that its folder exists and this user may write there`);
  }
  return error;
}

/** Connection failures before or during a query: the server is down, unreachable or went away. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03']);

/**
 * A PostgreSQL failure that is an operating condition (server unreachable, out of disk or other
 * resources, class 08 and 53) as a one-line store error naming the server; anything else as it was.
 */
export function postgresFault(error: unknown, server: string): unknown {
  if (error instanceof BriefingError) return error;
  const code = codeOf(error);
  const fault = (name: string, message: string): BriefingError => new BriefingError('store', name, message, { cause: error });
  if (code === '53100') {
    return fault('store-full', `the PostgreSQL server ${server} is out of disk space (53100): free space on the database server, then run the command again (a send resumes where it stopped)`);
  }
  if (code.startsWith('53')) {
    return fault('store-unavailable', `the PostgreSQL server ${server} is out of resources (${code}): ${(error as Error).message}; run the command again once it has recovered`);
  }
  if (UNREACHABLE.has(code) || code.startsWith('08') || /Connection terminated/i.test((error as Error | null)?.message ?? '')) {
    return fault('store-unavailable', `cannot reach the PostgreSQL server ${server} (${code || (error as Error).message}): start it or check BRIEFING_DATABASE_URL, then run the command again`);
  }
  return error;
}
