/**
 * Real stores for tests: a SQLite file in a fresh temp dir, or a fresh schema in the PostgreSQL
 * database `test` (BRIEFING_TEST_DATABASE_URL). Other test folders use these too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStoreAt, type StoreLocation } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';

export interface StoreFixture {
  store: Store;
  /** Where the store lives: open a second instance (another "process") with openStoreAt(location). */
  location: StoreLocation;
  /** Versions recorded in schema_migrations, read with a raw connection. */
  appliedMigrations(): Promise<number[]>;
  /** Runs raw SQL on the store's database (e.g. to put it back at an older schema), with a connection of its own. */
  exec(sql: string): Promise<void>;
  /** Closes the store and removes the file or schema. */
  cleanup(): Promise<void>;
}

/** A store in a new SQLite file under a new temp dir. */
export async function sqliteFixture(now?: Date): Promise<StoreFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'briefing-store-'));
  const location: StoreLocation = { kind: 'sqlite', file: path.join(dir, 'briefing.db') };
  const store = await openStoreAt(location, now);
  return {
    store,
    location,
    appliedMigrations: async () => {
      const db = new Database(location.file, { readonly: true });
      try {
        return db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => Number((r as { version: number }).version));
      } finally {
        db.close();
      }
    },
    exec: async (sql) => {
      const db = new Database(location.file);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The database the PostgreSQL tests use; each test run gets its own schema in it. */
export const POSTGRES_TEST_URL = process.env.BRIEFING_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether the test PostgreSQL answers. In CI (CI=true) a missing server is an error, so the
 * PostgreSQL suites fail instead of being skipped.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(`PostgreSQL is required in CI but ${POSTGRES_TEST_URL} does not answer: ${(error as Error).message}`, { cause: error });
    }
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A store in a new, uniquely named schema of the test database; cleanup drops the schema. */
export async function postgresFixture(now?: Date): Promise<StoreFixture> {
  const schema = `briefing_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient((client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(POSTGRES_TEST_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const location: StoreLocation = { kind: 'postgres', url: url.toString() };
  const store = await openStoreAt(location, now);
  return {
    store,
    location,
    appliedMigrations: () =>
      withClient(async (client) =>
        (await client.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`)).rows.map((r: { version: number }) => Number(r.version)),
      ),
    exec: async (sql) => {
      await withClient(async (client) => {
        await client.query(`SET search_path TO ${schema}`);
        await client.query(sql);
      });
    },
    cleanup: async () => {
      await store.close();
      await withClient((client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
    },
  };
}
