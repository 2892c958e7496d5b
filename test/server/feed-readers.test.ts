/**
 * Real feed readers against the served feeds: Debian's python3-feedparser and newsboat subscribe to
 * the Atom and RSS URLs of a server on 127.0.0.1, list the articles the build published, and poll
 * again with the validators they kept, which the server answers 304. The content is the repository's
 * and one record with a picture, so newsboat's own article view (read through a terminal) shows a
 * picture's alt text and the record's source as author.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../../src/server/listen.js';
import { accessRecords, createPublication, openTestServer, REPOSITORY, TEST_SECRET, type TestPublication, type TestServer } from './support.js';

/** The server runs in this process: the clients must run without blocking its event loop. */
const run = promisify(execFile);

let publication: TestPublication;
let server: TestServer;
let running: RunningServer;
let expectedTitles: string[];
let expectedAuthors: string[];
let content: string;

/** A record with a picture that has a web URL (the seed records' pictures have none). */
const PICTURED = `---
title: Drone strike damages cars in Odesa
published: 2025-07-22T09:00:00+03:00
source: Reuters
image:
  url: https://images.example.org/odesa.jpg
  alt: Three people look over a car with a shattered windshield
  caption: People in Odesa examine a damaged car.
  credit: Nina Liashonok/Reuters
---
A Russian drone struck a street in Odesa overnight.
`;
const PICTURE_ALT = 'Three people look over a car with a shattered windshield';

beforeAll(async () => {
  content = mkdtempSync(path.join(tmpdir(), 'briefing-feed-readers-'));
  cpSync(path.join(REPOSITORY, 'content'), content, { recursive: true });
  writeFileSync(path.join(content, '2025-07-22-odesa-drone.md'), PICTURED);
  publication = createPublication({ content });
  await run(process.execPath, [path.join(REPOSITORY, 'dist/cli/main.js'), 'build', '--config', publication.configFile], {
    env: { PATH: process.env.PATH, BRIEFING_SECRET: TEST_SECRET },
  });
  const feed = JSON.parse(readFileSync(path.join(publication.output, 'feed.json'), 'utf8')) as { items: Array<{ title: string; authors: Array<{ name: string }> }> };
  expectedTitles = feed.items.map((item) => item.title).sort();
  expectedAuthors = feed.items.flatMap((item) => item.authors.map((author) => author.name));
  expect(expectedTitles).toContain('Drone strike damages cars in Odesa');
  expect(new Set(expectedAuthors)).toEqual(new Set(['CBC News', 'Reuters']));
  server = await openTestServer(publication);
  running = await listen(server.app, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await running?.close();
  await server?.close();
  publication?.cleanup();
  if (content !== undefined) rmSync(content, { recursive: true, force: true });
});

const FEEDPARSER = `
import feedparser, json, sys
url = sys.argv[1]
first = feedparser.parse(url)
second = feedparser.parse(url, etag=first.get('etag'), modified=first.get('modified'))
print(json.dumps({
  'status': first.get('status'), 'bozo': bool(first.bozo), 'problem': str(first.get('bozo_exception', '')),
  'version': first.version, 'etag': first.get('etag'), 'modified': first.get('modified'),
  'titles': [entry.title for entry in first.entries], 'links': [entry.link for entry in first.entries],
  'second': second.get('status'), 'secondEntries': len(second.entries),
}))
`;

/**
 * Opens newsboat (offline, on the cache the test filled) in a pseudo-terminal, searches the article
 * titled argv[2], opens it and prints the screen's text. Each step waits for what newsboat draws,
 * not for a time; the test's timeout bounds the whole.
 */
const NEWSBOAT_VIEW = `
import os, pty, re, select, sys
home, title = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(COLUMNS='200', LINES='60')
    os.execvp('newsboat', ['newsboat', '-u', home + '/urls', '-c', home + '/cache.db', '-C', home + '/config'])
screen = ''
def wait_for(pattern):
    global screen
    while not re.search(pattern, screen):
        select.select([fd], [], [])
        screen += re.sub(r'\\x1b(\\[[0-9;?]*[A-Za-z]|[()][A-Z0-9]|[=>])', ' ', os.read(fd, 65536).decode('utf-8', 'replace'))
wait_for('Your feeds')
os.write(fd, b'\\r')
wait_for('Articles in feed')
os.write(fd, b'/' + title.encode() + b'\\r')
wait_for('Search results')
screen = ''
os.write(fd, b'\\r')
wait_for('Links:')
print(screen)
os.kill(pid, 9)
`;

interface FeedparserResult {
  status: number;
  bozo: boolean;
  problem: string;
  version: string;
  etag: string | null;
  modified: string | null;
  titles: string[];
  links: string[];
  second: number;
  secondEntries: number;
}

describe.each([
  ['atom.xml', 'atom10'],
  ['feed.xml', 'rss20'],
])('%s', (file, version) => {
  it('feedparser reads every article without complaint, and its second poll gets 304', async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', FEEDPARSER, `${running.url}${file}`], { encoding: 'utf8', timeout: 30_000 });
    const result = JSON.parse(stdout) as FeedparserResult;
    expect(result.problem).toBe('');
    expect(result.bozo).toBe(false);
    expect(result.status).toBe(200);
    expect(result.version).toBe(version);
    expect([...result.titles].sort()).toEqual(expectedTitles);
    expect(result.links.every((link) => link.startsWith('http'))).toBe(true);
    expect(result.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(result.modified).not.toBeNull();
    expect(result.second).toBe(304);
    expect(result.secondEntries).toBe(0);
  });

  it('newsboat lists every article, and once it keeps the validators its next poll gets 304', async () => {
    const home = path.join(publication.dir, `newsboat-${version}`);
    mkdirSync(home);
    writeFileSync(path.join(home, 'urls'), `${running.url}${file}\n`);
    writeFileSync(path.join(home, 'config'), '');
    const cache = path.join(home, 'cache.db');
    const reload = async (): Promise<string> =>
      (
        await run('newsboat', ['-u', path.join(home, 'urls'), '-c', cache, '-C', path.join(home, 'config'), '-x', 'reload', 'print-unread'], {
          env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' },
          encoding: 'utf8',
          timeout: 30_000,
        })
      ).stdout;
    const storedEtag = (): string => {
      const db = new Database(cache, { readonly: true });
      try {
        return String((db.prepare('SELECT etag FROM rss_feed').get() as { etag: string } | undefined)?.etag ?? '');
      } finally {
        db.close();
      }
    };

    expect((await reload()).trim()).toBe(`${expectedTitles.length} unread articles`);
    // newsboat 2.21 records a feed's ETag only once the feed is in its cache: from the second fetch.
    if (storedEtag() === '') await reload();
    const served = accessRecords(server.records).filter((record) => record.path === `/${file}`);
    expect(storedEtag()).not.toBe('');

    await reload();
    const polls = accessRecords(server.records).filter((record) => record.path === `/${file}`);
    expect(polls.length).toBe(served.length + 1);
    expect(polls.at(-1)).toMatchObject({ method: 'GET', status: 304, bytes: 0 });

    const db = new Database(cache, { readonly: true });
    try {
      const items = db.prepare('SELECT title, author, content FROM rss_item').all() as Array<{ title: string; author: string; content: string }>;
      expect(items.map((row) => row.title).sort()).toEqual(expectedTitles);
      // The record's source is the author newsboat shows, and every picture it shows has alt text.
      expect(new Set(items.map((row) => row.author))).toEqual(new Set(expectedAuthors));
      const images = items.flatMap(({ content }) => content.match(/<img\b[^>]*>/g) ?? []);
      expect(images).toHaveLength(1);
      for (const image of images) expect(image).toMatch(/\salt="[^"]+"/);
    } finally {
      db.close();
    }

    // What a reader sees: newsboat's article view of the pictured record, in a terminal.
    const { stdout } = await run('/usr/bin/python3', ['-c', NEWSBOAT_VIEW, home, 'Drone strike damages cars in Odesa'], {
      env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', TERM: 'xterm' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(stdout).toContain(`[image 1: ${PICTURE_ALT}]`);
    expect(stdout).toContain('Author: Reuters');
  });
});

describe('after a rebuild with nothing new', () => {
  it('keeps ETag and Last-Modified, so a conditional poll is still answered 304', async () => {
    const before = await fetch(`${running.url}atom.xml`);
    const etag = before.headers.get('etag') ?? '';
    const lastModified = before.headers.get('last-modified') ?? '';
    await run(process.execPath, [path.join(REPOSITORY, 'dist/cli/main.js'), 'build', '--config', publication.configFile], {
      env: { PATH: process.env.PATH, BRIEFING_SECRET: TEST_SECRET },
    });
    const after = await fetch(`${running.url}atom.xml`, { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(304);
    expect(after.headers.get('etag')).toBe(etag);
    expect(after.headers.get('last-modified')).toBe(lastModified);
    const byDate = await fetch(`${running.url}atom.xml`, { headers: { 'if-modified-since': lastModified } });
    expect(byDate.status).toBe(304);
  });
});
