import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStoreAt, storeLocation } from '../../src/store/open-store.js';
import { describeStoreContract } from './store-contract.js';
import { sqliteFixture } from './store-fixtures.js';

describeStoreContract('SQLite', () => sqliteFixture());

describe('SQLite store file', () => {
  it('is in WAL mode and refuses a schema newer than the program', async () => {
    const fixture = await sqliteFixture();
    const { file } = fixture.location as { file: string };
    try {
      const db = new Database(file);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('from the future');
      db.close();
      await expect(openStoreAt(fixture.location)).rejects.toThrow(/store: the store's schema is version 99, newer than this program knows/);
    } finally {
      await fixture.cleanup();
    }
  });
});

describe('storeLocation (BRIEFING_DATABASE_URL)', () => {
  it.each([
    [undefined, { kind: 'sqlite', file: path.join('/srv/briefing/data', 'briefing.db') }],
    ['', { kind: 'sqlite', file: path.join('/srv/briefing/data', 'briefing.db') }],
    ['postgres://u:p@db.example.org/briefing', { kind: 'postgres', url: 'postgres://u:p@db.example.org/briefing' }],
    ['postgresql://db.example.org/briefing', { kind: 'postgres', url: 'postgresql://db.example.org/briefing' }],
    ['sqlite:/var/lib/briefing/list.db', { kind: 'sqlite', file: '/var/lib/briefing/list.db' }],
    ['sqlite:///var/lib/briefing/list.db', { kind: 'sqlite', file: '/var/lib/briefing/list.db' }],
    ['sqlite:relative.db', { kind: 'sqlite', file: path.resolve('relative.db') }],
    ['/var/lib/briefing/list.db', { kind: 'sqlite', file: '/var/lib/briefing/list.db' }],
  ])('reads %j', (url, location) => {
    expect(storeLocation(url, '/srv/briefing/data')).toEqual(location);
  });

  it.each([
    ['mysql://db.example.org/briefing', /unsupported scheme "mysql"/],
    ['sqlite:', /needs a file path/],
  ])('refuses %j', (url, message) => {
    expect(() => storeLocation(url, '/srv/briefing/data')).toThrow(message);
  });
});
