import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BriefingError } from '../errors.js';
import { sqliteDialect } from './dialect.js';
import { migrate } from './migrations.js';
import { buildQueries } from './queries.js';
import { createSqlStore } from './sql-store.js';
import { sqliteFault } from './store-fault.js';
import type { Query, SqlDriver, SqlValue, Step, Task } from './sql-task.js';
import type { Store } from './store.js';

/** How long a writer waits for another process's write transaction before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/** How the embedded store is opened. */
export interface SqliteOptions {
  /**
   * The wait above, which blocks the whole event loop: a server asks for 0 and waits itself, asynchronously
   * (default 10 s, for commands that do one thing at a time).
   */
  busyTimeoutMs?: number;
}
/**
 * Page cache per connection, in KiB when negative: SQLite's own default of 2 MB. better-sqlite3
 * builds SQLite with 16 MB, which a send of 100,000 deliveries fills with pages it reads once
 * (the outbox goes in subscriber order), some 18 MB of a send's peak memory. The bench's outbox
 * figure is the same with either.
 */
const CACHE_SIZE = -2000;

/** better-sqlite3 binds numbers, strings and null: times become epoch milliseconds. */
function bind(params: readonly SqlValue[]): Record<string, string | number | null> {
  const named: Record<string, string | number | null> = {};
  params.forEach((value, index) => {
    named[`p${index + 1}`] = value instanceof Date ? value.getTime() : value;
  });
  return named;
}

/** The 16 bytes every SQLite database file begins with. */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Checks, before each write, that the store file is still the one opened and still a database; and lets its descriptor go. */
interface StoreFileGuard {
  check(): void;
  close(): void;
}

/**
 * A check that the file is still the one opened, and still an SQLite file: SQLite keeps writing into a
 * deleted or replaced file (through its open descriptors), or into the WAL beside a file truncated or
 * overwritten in place, without error, and those writes would be lost at the next open. A descriptor
 * kept open reads the file's first bytes in one call; the path's identity says whether it was replaced.
 */
function storeFileGuard(file: string): StoreFileGuard {
  const identity = (): string | undefined => {
    try {
      const stats = statSync(file);
      return `${stats.dev}:${stats.ino}`;
    } catch {
      return undefined;
    }
  };
  const opened = identity();
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(SQLITE_MAGIC.length);
  return {
    check() {
      if (identity() !== opened) {
        throw new BriefingError('store', 'store-replaced', `the SQLite store ${file} was deleted or replaced while in use; restart to use the file there now`);
      }
      const read = readSync(fd, head, 0, head.length, 0);
      if (read !== head.length || !head.equals(SQLITE_MAGIC)) {
        throw new BriefingError(
          'store',
          'store-corrupt',
          `${file} was truncated or overwritten while in use (it no longer starts as an SQLite store): stop, restore it from a backup, then start again`,
        );
      }
    },
    close() {
      closeSync(fd);
    },
  };
}

function createSqliteDriver(db: Database.Database, file: string, guard: StoreFileGuard): SqlDriver {
  const statements = new Map<string, Database.Statement>();
  const statement = (query: Query): Database.Statement => {
    let prepared = statements.get(query.name);
    if (!prepared) {
      prepared = db.prepare(query.text);
      statements.set(query.name, prepared);
    }
    return prepared;
  };
  const perform = (step: Step): unknown => {
    if (step.kind === 'rows') return statement(step.query).all(bind(step.params));
    if (step.kind === 'run') return statement(step.query).run(bind(step.params)).changes;
    db.exec(step.text);
    return undefined;
  };
  // Tasks of one connection run one after another.
  let tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs a task synchronously, so a transaction begins and commits within one turn of the event
   * loop and no other connection of this process can interleave.
   */
  function runTask<T>(task: Task<T>): T {
    let next = task.next();
    for (;;) {
      if (next.done) return next.value;
      let result: unknown;
      try {
        result = perform(next.value);
      } catch (error) {
        // Thrown at the task's yield, so its own try/finally runs, as with await.
        next = task.throw(error);
        continue;
      }
      next = task.next(result);
    }
  }

  function inTransaction<T>(task: Task<T>): T {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = runTask(task);
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  return {
    execute<T>(task: () => Task<T>, mode: 'read' | 'write'): Promise<T> {
      const result = tail.then(() => {
        if (mode === 'read') return runTask(task());
        guard.check();
        return inTransaction(task());
      });
      tail = result.catch(() => undefined);
      return result.catch((error: unknown) => {
        throw sqliteFault(error, file);
      });
    },
    async prepare(queries) {
      for (const query of queries) statement(query);
    },
    async close() {
      await tail;
      try {
        db.close();
      } catch (error) {
        throw sqliteFault(error, file);
      } finally {
        guard.close();
      }
    },
  };
}

/**
 * Opens (creating if needed) the embedded store at `file`: WAL so readers never wait for the writer,
 * a busy timeout for writers of other processes, foreign keys on, a bounded page cache, and the
 * schema migrated. Writes refuse to go on once the file was deleted, replaced, truncated or overwritten.
 */
export async function openSqliteStore(file: string, now: Date = new Date(), options: SqliteOptions = {}): Promise<Store> {
  await refuseEmptyFile(file);
  let db: Database.Database;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
  } catch (error) {
    throw unavailable(error, file);
  }
  let guard: StoreFileGuard | undefined;
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = ${CACHE_SIZE}`);
    guard = storeFileGuard(file);
    const driver = createSqliteDriver(db, file, guard);
    await migrate(driver, sqliteDialect, now);
    const queries = buildQueries(sqliteDialect);
    await driver.prepare(Object.values(queries));
    return createSqlStore(sqliteDialect, driver, queries);
  } catch (error) {
    db.close();
    guard?.close();
    throw unavailable(error, file);
  }
}

/** A failure to open: a known condition as its own store error, anything else as "cannot open". */
function unavailable(error: unknown, file: string): BriefingError {
  const fault = sqliteFault(error, file);
  if (fault instanceof BriefingError) return fault;
  return new BriefingError('store', 'store-unavailable', `cannot open the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
}

/**
 * Refuses a store file of zero bytes: SQLite would take it for a new, empty store and the list would
 * be silently gone (a truncated copy, a full disk during a restore). A file that does not exist yet
 * is created as usual. SQLite writes its header when it opens a new file in WAL mode, so a file
 * another process is creating this very moment is looked at once more before it is refused.
 */
async function refuseEmptyFile(file: string): Promise<void> {
  const size = (): number | undefined => {
    try {
      return statSync(file).size;
    } catch {
      return undefined;
    }
  };
  if (size() !== 0) return;
  await sleep(100);
  if (size() !== 0) return;
  throw new BriefingError(
    'store',
    'store-empty',
    `${file} is an empty file (0 bytes), not a SQLite store: restore it from a backup, or delete it to start an empty store`,
  );
}
