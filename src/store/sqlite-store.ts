import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BriefingError } from '../errors.js';
import { sqliteDialect } from './dialect.js';
import { migrate } from './migrations.js';
import { buildQueries } from './queries.js';
import { createSqlStore } from './sql-store.js';
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

/**
 * A check that the file is still the one opened: SQLite keeps writing into a deleted or replaced file
 * (through its open descriptors) without error, and those writes would be lost.
 */
function sameFileCheck(file: string): () => void {
  const identity = (): string | undefined => {
    try {
      const stats = statSync(file);
      return `${stats.dev}:${stats.ino}`;
    } catch {
      return undefined;
    }
  };
  const opened = identity();
  return () => {
    if (identity() !== opened) {
      throw new BriefingError('store', 'store-replaced', `the SQLite store ${file} was deleted or replaced while in use; restart to use the file there now`);
    }
  };
}

function createSqliteDriver(db: Database.Database, checkSameFile: () => void): SqlDriver {
  const statements = new Map<string, Database.Statement>();
  const statement = (query: Query): Database.Statement => {
    let prepared = statements.get(query.name);
    if (!prepared) {
      prepared = db.prepare(query.text);
      statements.set(query.name, prepared);
    }
    return prepared;
  };
  const perform = (step: Exclude<Step, { kind: 'wait' }>): unknown => {
    if (step.kind === 'rows') return statement(step.query).all(bind(step.params));
    if (step.kind === 'run') return statement(step.query).run(bind(step.params)).changes;
    db.exec(step.text);
    return undefined;
  };
  // Tasks of one connection run one after another; only a task that awaits (an import) lets others queue.
  let tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs a task synchronously up to its first `wait` step, so a transaction without waits begins and
   * commits within one turn of the event loop and no other connection of this process can interleave.
   */
  function runTask<T>(task: Task<T>, resume: () => IteratorResult<Step, T> = () => task.next()): T | Promise<T> {
    let next = resume();
    for (;;) {
      if (next.done) return next.value;
      const step = next.value;
      if (step.kind === 'wait') {
        return step.promise.then(
          (value) => runTask(task, () => task.next(value)),
          (error: unknown) => runTask(task, () => task.throw(error)),
        );
      }
      let result: unknown;
      try {
        result = perform(step);
      } catch (error) {
        // Thrown at the task's yield, so its own try/finally runs, as with await.
        next = task.throw(error);
        continue;
      }
      next = task.next(result);
    }
  }

  function inTransaction<T>(task: Task<T>): T | Promise<T> {
    db.exec('BEGIN IMMEDIATE');
    const rollback = (error: unknown): never => {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    };
    const commit = (value: T): T => {
      try {
        db.exec('COMMIT');
      } catch (error) {
        rollback(error);
      }
      return value;
    };
    let result: T | Promise<T>;
    try {
      result = runTask(task);
    } catch (error) {
      return rollback(error);
    }
    return result instanceof Promise ? result.then(commit, rollback) : commit(result);
  }

  return {
    execute<T>(task: () => Task<T>, mode: 'read' | 'write'): Promise<T> {
      const result = tail.then(() => {
        if (mode === 'read') return runTask(task());
        checkSameFile();
        return inTransaction(task());
      });
      tail = result.catch(() => undefined);
      return result;
    },
    async prepare(queries) {
      for (const query of queries) statement(query);
    },
    async close() {
      await tail;
      db.close();
    },
  };
}

/**
 * Opens (creating if needed) the embedded store at `file`: WAL so readers never wait for the writer,
 * a busy timeout for writers of other processes, foreign keys on, a bounded page cache, and the
 * schema migrated. Writes refuse to go on once the file was deleted or replaced.
 */
export async function openSqliteStore(file: string, now: Date = new Date(), options: SqliteOptions = {}): Promise<Store> {
  let db: Database.Database;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
  } catch (error) {
    throw new BriefingError('store', 'store-unavailable', `cannot open the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = ${CACHE_SIZE}`);
    const driver = createSqliteDriver(db, sameFileCheck(file));
    await migrate(driver, sqliteDialect, now);
    const queries = buildQueries(sqliteDialect);
    await driver.prepare(Object.values(queries));
    return createSqlStore(sqliteDialect, driver, queries);
  } catch (error) {
    db.close();
    if (error instanceof BriefingError) throw error;
    throw new BriefingError('store', 'store-unavailable', `cannot open the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
  }
}
