import path from 'node:path';
import type { Config } from '../config.js';
import { BriefingError } from '../errors.js';
import type { SqliteOptions } from './sqlite-store.js';
import type { Store } from './store.js';

/** Where the store lives: an embedded SQLite file or a PostgreSQL server. */
export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/**
 * Reads BRIEFING_DATABASE_URL: `postgres://` or `postgresql://` for PostgreSQL, `sqlite:PATH` or a
 * plain path for SQLite; absent, `<data>/briefing.db`.
 */
export function storeLocation(databaseUrl: string | undefined, dataDirectory: string): StoreLocation {
  if (databaseUrl === undefined || databaseUrl === '') return { kind: 'sqlite', file: path.join(dataDirectory, 'briefing.db') };
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return { kind: 'postgres', url: databaseUrl };
  if (/^sqlite:/i.test(databaseUrl)) {
    const file = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new BriefingError('config', 'invalid-database-url', 'BRIEFING_DATABASE_URL sqlite: needs a file path');
    return { kind: 'sqlite', file: path.resolve(file) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl)) {
    const scheme = databaseUrl.slice(0, databaseUrl.indexOf(':'));
    throw new BriefingError('config', 'invalid-database-url', `BRIEFING_DATABASE_URL: unsupported scheme "${scheme}" (use postgres://…, sqlite:PATH or a file path)`);
  }
  return { kind: 'sqlite', file: path.resolve(databaseUrl) };
}

/** Opens the store at a location, loading only that backend's module (and driver). */
export async function openStoreAt(location: StoreLocation, now: Date = new Date(), options: SqliteOptions = {}): Promise<Store> {
  if (location.kind === 'postgres') {
    const { openPostgresStore } = await import('./postgres-store.js');
    return openPostgresStore(location.url, now);
  }
  const { openSqliteStore } = await import('./sqlite-store.js');
  return openSqliteStore(location.file, now, options);
}

/** Opens the store the configuration and environment choose (SQLite at data/briefing.db by default). */
export function openStore(config: Config, options: SqliteOptions = {}): Promise<Store> {
  return openStoreAt(storeLocation(config.env.databaseUrl, config.paths.data), new Date(), options);
}
