/**
 * The one code path of both SQL backends. Store logic is written as generator "tasks" that yield SQL
 * steps; a driver runs them. SQLite runs a task synchronously (better-sqlite3 transactions must not
 * span the event loop, or two connections in one process would wait on each other); PostgreSQL
 * awaits each step on one pooled client.
 */

/** A value bound to a placeholder. Lists and rows are passed as JSON text (see Dialect.jsonList). */
export type SqlValue = string | number | Date | null;

/** A named SQL statement with `$1` placeholders already rewritten for its dialect. */
export interface Query {
  readonly name: string;
  readonly text: string;
}

/** A result row by column name. */
export type Row = Record<string, unknown>;

/** One thing a task asks its driver to do. */
export type Step =
  | { kind: 'rows'; query: Query; params: readonly SqlValue[] }
  | { kind: 'run'; query: Query; params: readonly SqlValue[] }
  | { kind: 'exec'; text: string };

/** A unit of store work: yields steps, receives their results, returns T. */
export type Task<T> = Generator<Step, T, unknown>;

/** Rows of a query. */
export function* rows<R extends Row = Row>(query: Query, params: readonly SqlValue[] = []): Task<R[]> {
  return (yield { kind: 'rows', query, params }) as R[];
}

/** The first row of a query, if any. */
export function* row<R extends Row = Row>(query: Query, params: readonly SqlValue[] = []): Task<R | undefined> {
  const result = yield* rows<R>(query, params);
  return result[0];
}

/** Runs a statement; returns how many rows it changed. */
export function* run(query: Query, params: readonly SqlValue[] = []): Task<number> {
  return (yield { kind: 'run', query, params }) as number;
}

/** Runs DDL text (several statements allowed, no parameters): migrations only. */
export function* exec(text: string): Task<void> {
  yield { kind: 'exec', text };
}

/** What a backend provides: running tasks on a connection, in a write transaction when asked. */
export interface SqlDriver {
  /**
   * `write` tasks run in one transaction that takes the write lock up front (SQLite BEGIN IMMEDIATE,
   * PostgreSQL BEGIN on one client) and roll back on any error; `read` tasks run without one.
   */
  execute<T>(task: () => Task<T>, mode: 'read' | 'write'): Promise<T>;
  /** Prepares (SQLite) or checks (PostgreSQL) every named query, so a broken one fails at open. */
  prepare(queries: readonly Query[]): Promise<void>;
  close(): Promise<void>;
}
