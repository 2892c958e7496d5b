import pg from 'pg';
import { BriefingError } from '../errors.js';
import { postgresDialect } from './dialect.js';
import { migrate } from './migrations.js';
import { buildQueries } from './queries.js';
import { createSqlStore } from './sql-store.js';
import { postgresFault } from './store-fault.js';
import type { SqlDriver, Step, Task } from './sql-task.js';
import type { Store } from './store.js';

/** Ids and counts are bigint: numbers are exact up to 2^53, far beyond any list. */
function parseBigint(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new BriefingError('store', 'bigint-overflow', `integer ${text} is too large`);
  return value;
}

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? parseBigint : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** The URL without its password, for messages and logs. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

function createPostgresDriver(pool: pg.Pool, server: string): SqlDriver {
  async function perform(client: pg.PoolClient, step: Step): Promise<unknown> {
    switch (step.kind) {
      case 'rows':
        return (await client.query({ name: step.query.name, text: step.query.text, values: [...step.params] })).rows;
      case 'run':
        return (await client.query({ name: step.query.name, text: step.query.text, values: [...step.params] })).rowCount ?? 0;
      case 'exec':
        await client.query(step.text);
        return undefined;
    }
  }

  async function runTask<T>(client: pg.PoolClient, task: Task<T>): Promise<T> {
    let next = task.next();
    while (!next.done) {
      let result: unknown;
      try {
        result = await perform(client, next.value);
      } catch (error) {
        // Thrown at the task's yield, so its own try/finally runs, as with await.
        next = task.throw(error);
        continue;
      }
      next = task.next(result);
    }
    return next.value;
  }

  /** Runs a task on one pooled client, writes in a transaction. */
  async function execute<T>(task: () => Task<T>, mode: 'read' | 'write'): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      if (mode === 'read') return await runTask(client, task());
      await client.query('BEGIN');
      try {
        const result = await runTask(client, task());
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      // A client whose rollback failed is in an unknown state: the pool discards it.
      client.release(broken);
    }
  }

  return {
    execute<T>(task: () => Task<T>, mode: 'read' | 'write'): Promise<T> {
      return execute(task, mode).catch((error: unknown) => {
        throw postgresFault(error, server);
      });
    },
    async prepare(queries) {
      const client = await pool.connect();
      try {
        for (const query of queries) {
          try {
            await client.query(`PREPARE briefing_check AS ${query.text}`);
            await client.query('DEALLOCATE briefing_check');
          } catch (error) {
            throw new BriefingError('store', 'broken-query', `query ${query.name} does not prepare: ${(error as Error).message}`, { cause: error });
          }
        }
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * Opens the shared store on PostgreSQL (several processes and machines on one database) and brings
 * its schema up to date. The URL may carry `?options=-c search_path=…` to use another schema.
 */
export async function openPostgresStore(url: string, now: Date = new Date()): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, types: typeParsers, application_name: 'briefing', max: 10 });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    const driver = createPostgresDriver(pool, describePostgresUrl(url));
    await migrate(driver, postgresDialect, now);
    const queries = buildQueries(postgresDialect);
    await driver.prepare(Object.values(queries));
    return createSqlStore(postgresDialect, driver, queries);
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (error instanceof BriefingError && error.code !== 'store-unavailable') throw error;
    // Unreachable at open: say so in the opener's words, with the driver's own reason.
    const reason = error instanceof BriefingError ? error.cause : error;
    throw new BriefingError('store', 'store-unavailable', `cannot open the PostgreSQL store ${describePostgresUrl(url)}: ${(reason as Error).message}`, {
      cause: reason,
    });
  }
}
