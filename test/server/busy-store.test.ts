import { closeSync, openSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken } from '../../src/delivery/tokens.js';
import { canMount, mountTmpfs, type Tmpfs } from '../reliability/support/mounts.js';
import { createPublication, fromClient, openTestServer, TEST_SECRET, type TestPublication, type TestServer } from './support.js';

let publication: TestPublication;
let server: TestServer;
let holder: Database.Database | undefined;

afterEach(async () => {
  holder?.close();
  holder = undefined;
  await server.close();
  publication.cleanup();
});

async function open(): Promise<{ file: string }> {
  publication = createPublication();
  writeFileSync(path.join(publication.output, 'feed.xml'), '<?xml version="1.0"?><rss version="2.0"><channel/></rss>\n');
  server = await openTestServer(publication, { limits: { storeWaitMs: 400 } });
  return { file: path.join(publication.config.paths.data, 'briefing.db') };
}

/** Another connection (as `briefing subscribers import` beside `serve` would) takes the write lock and keeps it. */
function holdWriteLock(file: string): Database.Database {
  const db = new Database(file);
  db.exec('BEGIN IMMEDIATE');
  return db;
}

async function timed(request: Promise<Response> | Response): Promise<{ response: Response; ms: number }> {
  const started = performance.now();
  const response = await request;
  return { response, ms: performance.now() - started };
}

const subscribe = (client: string): Promise<Response> =>
  Promise.resolve(
    server.app.request(
      '/subscribe',
      { method: 'POST', body: new URLSearchParams({ address: `${client}@example.org` }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      fromClient(`192.0.2.${client.length}`),
    ),
  );

describe('a store locked by another writer', () => {
  it('serves feeds at once, says busy on /healthz, and answers writes 503 with Retry-After after a bounded wait', async () => {
    const { file } = await open();
    await server.store.addSubscribers([{ address: 'reader@example.org', status: 'active', source: 'test' }], server.clock.now());
    const reader = (await server.store.findSubscriber('reader@example.org'))!;
    holder = holdWriteLock(file);

    // The subscribe waits for the lock; meanwhile the feed is not held up behind it.
    const waiting = timed(subscribe('waiting'));
    const feed = await timed(server.app.request('/feed.xml'));
    expect(feed.response.status).toBe(200);
    expect(feed.ms).toBeLessThan(150);

    const refused = await waiting;
    expect(refused.response.status).toBe(503);
    expect(refused.response.headers.get('retry-after')).toBe('2');
    expect(refused.ms).toBeLessThan(2_000);

    const health = await timed(server.app.request('/healthz'));
    expect(health.response.status).toBe(503);
    expect(await health.response.json()).toEqual({ status: 'busy' });
    expect(health.ms).toBeLessThan(2_000);

    const unsubscribe = await server.app.request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' }, fromClient('192.0.2.9'));
    expect(unsubscribe.status).toBe(503);
    expect(server.records.some((record) => record.msg === 'server: the store stayed busy')).toBe(true);
    expect(server.records.some((record) => record.msg === 'server: request failed')).toBe(false);

    // Once the other writer lets go, a write that was waiting goes through.
    const pending = timed(subscribe('patient'));
    setTimeout(() => holder?.exec('ROLLBACK'), 100);
    expect((await pending).response.status).toBe(303);
    await server.deps.tasks.idle();
    expect((await server.store.findSubscriber('patient@example.org'))?.status).toBe('pending');
    expect((await server.app.request('/healthz')).status).toBe(200);
  });
});

describe('a store file deleted, replaced or damaged while serving', () => {
  it.each([
    ['deleted', 'the store file was deleted or replaced', (file: string) => rmSync(file)],
    ['replaced', 'the store file was deleted or replaced', (file: string) => {
      const other = new Database(`${file}.new`);
      other.exec('CREATE TABLE unrelated (x)');
      other.close();
      renameSync(`${file}.new`, file);
    }],
    // The same file (same inode) made unreadable: SQLite would go on writing into its WAL, lost at the next open.
    ['truncated to 0 bytes in place', 'the store file is damaged', (file: string) => truncateSync(file, 0)],
    ['overwritten in place with garbage', 'the store file is damaged', (file: string) => writeFileSync(file, Buffer.alloc(8192, 'not a database ')) ],
  ])('refuses writes with 503 when the file is %s, instead of writing where no one will read', async (_label, logged, change) => {
    const { file } = await open();
    await server.store.addSubscribers([{ address: 'reader@example.org', status: 'active', source: 'test' }], server.clock.now());
    const reader = (await server.store.findSubscriber('reader@example.org'))!;
    change(file);

    const response = await subscribe('lost');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
    const unsubscribe = await server.app.request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' }, fromClient('192.0.2.9'));
    expect(unsubscribe.status).toBe(503);
    const health = await server.app.request('/healthz');
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'unavailable' });
    expect(server.records.some((record) => record.msg === `server: ${logged}`)).toBe(true);
    expect((await server.app.request('/feed.xml')).status).toBe(200);
  });
});

describe('a store whose pages are damaged while serving', () => {
  it('answers a write that meets a malformed page (SQLITE_CORRUPT) with 503, not the 500 page of a bug', async () => {
    const { file } = await open();
    await server.store.addSubscribers([{ address: 'reader@example.org', status: 'active', source: 'test' }], server.clock.now());
    const reader = (await server.store.findSubscriber('reader@example.org'))!;
    // Every page of the subscribers table and its indexes, found with SQLite's own page map, then overwritten in place.
    const other = new Database(file);
    other.pragma('wal_checkpoint(TRUNCATE)');
    const pages = other
      .prepare("SELECT pageno FROM dbstat WHERE name = 'subscribers' OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = 'subscribers' AND type = 'index')")
      .pluck()
      .all() as number[];
    const pageSize = other.pragma('page_size', { simple: true }) as number;
    expect(pages.length).toBeGreaterThan(0);
    const fd = openSync(file, 'r+');
    try {
      for (const page of pages) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (page - 1) * pageSize);
    } finally {
      closeSync(fd);
    }
    // A commit of another connection makes the server's connection drop its page cache and read the file again.
    other.pragma('application_id = 7');
    other.close();

    const unsubscribe = await server.app.request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' }, fromClient('192.0.2.9'));
    expect(unsubscribe.status).toBe(503);
    expect(unsubscribe.headers.get('retry-after')).not.toBeNull();
    expect(server.records.some((record) => record.msg === 'server: the store file is damaged')).toBe(true);
    expect(server.records.some((record) => record.msg === 'server: request failed')).toBe(false);
    expect((await server.app.request('/feed.xml')).status).toBe(200);
  });
});

describe('a store whose disk fills while serving', () => {
  let disk: Tmpfs | undefined;
  afterEach(() => {
    disk?.unmount();
    disk = undefined;
  });

  it.skipIf(!canMount)('answers a write on a full disk (SQLITE_FULL) with 503 and Retry-After, not the 500 page of a bug; feeds still served', async () => {
    publication = createPublication();
    writeFileSync(path.join(publication.output, 'feed.xml'), '<?xml version="1.0"?><rss version="2.0"><channel/></rss>\n');
    disk = mountTmpfs(publication.dir, 1024 * 1024);
    publication = { ...publication, config: { ...publication.config, paths: { ...publication.config.paths, data: disk.dir } } };
    server = await openTestServer(publication, { limits: { storeWaitMs: 400 } });
    await server.store.addSubscribers([{ address: 'reader@example.org', status: 'active', source: 'test' }], server.clock.now());
    const reader = (await server.store.findSubscriber('reader@example.org'))!;
    // Whatever room is left on the disk taken by another file.
    const filler = openSync(path.join(disk.dir, 'filler'), 'w');
    try {
      for (;;) writeSync(filler, Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(filler);
    }

    const unsubscribe = await server.app.request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' }, fromClient('192.0.2.9'));
    expect(unsubscribe.status).toBe(503);
    expect(unsubscribe.headers.get('retry-after')).not.toBeNull();
    expect(server.records.some((record) => String(record.msg).startsWith('server: the store cannot be written'))).toBe(true);
    expect(server.records.some((record) => record.msg === 'server: request failed')).toBe(false);
    expect((await server.app.request('/feed.xml')).status).toBe(200);
  });
});
