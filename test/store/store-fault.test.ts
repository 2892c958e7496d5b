import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BriefingError } from '../../src/errors.js';
import { postgresFault, sqliteFault } from '../../src/store/store-fault.js';
import { postgresAvailable, POSTGRES_TEST_URL } from './store-fixtures.js';

/** The error a real call throws. */
async function thrown(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('sqliteFault', () => {
  it('turns a real SQLITE_NOTADB into a one-line store error naming the file, and leaves a bug as it is', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'briefing-fault-'));
    try {
      const file = path.join(dir, 'briefing.db');
      writeFileSync(file, Buffer.alloc(8192, 'garbage '));
      const notADatabase = await thrown(() => new Database(file).pragma('journal_mode = WAL'));
      const fault = sqliteFault(notADatabase, file);
      expect(fault).toBeInstanceOf(BriefingError);
      expect(fault).toMatchObject({ code: 'store-corrupt', message: `store: ${file} is not a readable SQLite store (SQLITE_NOTADB): restore it from a backup, or move it aside to start an empty store` });
      const bug = await thrown(() => new Database(':memory:').prepare('SELECT * FROM no_such_table'));
      expect(sqliteFault(bug, file)).toBe(bug);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!(await postgresAvailable()))('postgresFault', () => {
  it('turns a real refused connection into store-unavailable naming the server, and leaves an SQL error as it is', async () => {
    const refused = await thrown(() => new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/test' }).connect());
    expect(postgresFault(refused, 'postgres://postgres@127.0.0.1:1/test')).toMatchObject({
      code: 'store-unavailable',
      message: 'store: cannot reach the PostgreSQL server postgres://postgres@127.0.0.1:1/test (ECONNREFUSED): start it or check BRIEFING_DATABASE_URL, then run the command again',
    });
    const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
    await client.connect();
    try {
      const bug = await thrown(() => client.query('SELECT * FROM no_such_table_at_all'));
      expect(postgresFault(bug, 'server')).toBe(bug);
      // Class 53 (insufficient resources) as the server sends it: 53100 is a full disk.
      const full = Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' });
      expect(postgresFault(full, 'server')).toMatchObject({ code: 'store-full' });
    } finally {
      await client.end();
    }
  });
});
