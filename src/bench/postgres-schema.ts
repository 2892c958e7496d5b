import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the bench uses when it answers (the test database on loopback), as the tests do. */
export const BENCH_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of its own in the bench's database: `url` puts a store there; `drop` removes it. */
export interface BenchSchema {
  url: string;
  drop(): Promise<void>;
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh, uniquely named schema; throws with the server's words when PostgreSQL does not answer. */
export async function createBenchSchema(): Promise<BenchSchema> {
  const schema = `briefing_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient((client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(BENCH_POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: () => withClient((client) => client.query(`DROP SCHEMA ${schema} CASCADE`)).then(() => undefined),
  };
}
