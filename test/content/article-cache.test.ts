import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCacheFile, encodeCacheFile, forgetParsedArticles, saveArticleCache, type ArticleCacheMemory, type CacheFile } from '../../src/content/article-cache.js';
import { loadArticleIndex, loadArticles } from '../../src/content/load-articles.js';
import { folderWith, record, testRecordLimit, testTopics } from './helpers.js';

const zone = 'Europe/Kyiv';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** The cache file as tests look at it: by name, each record's stamp, content hash and article (as stored: JSON, times as numbers). */
interface CacheView {
  key: string;
  statedAt: number;
  entries: Record<string, { article: Record<string, unknown> & { title: string }; contentHash: string; published: number; stamp: Float64Array }>;
}

function readCacheFile(file: string): CacheView {
  const { header, texts } = decodeCacheFile(readFileSync(file));
  const raw = header as CacheFile;
  const entries = Object.fromEntries(
    raw.names.map((name, index) => [
      name,
      {
        article: JSON.parse((texts[index] as Buffer).toString('utf8')),
        contentHash: raw.hashes[index] as string,
        published: raw.published[index] as number,
        stamp: raw.stamps.slice(4 * index, 4 * index + 4),
      },
    ]),
  );
  return { key: raw.key, statedAt: raw.statedAt, entries };
}

function writeCacheFile(file: string, view: CacheView): void {
  const raw = decodeCacheFile(readFileSync(file)).header as CacheFile;
  const entries = Object.entries(view.entries);
  const stamps = new Float64Array(4 * entries.length);
  entries.forEach(([, entry], index) => stamps.set(entry.stamp, 4 * index));
  const header = {
    key: raw.key,
    node: raw.node,
    statedAt: view.statedAt,
    names: entries.map(([name]) => name),
    stamps,
    published: Float64Array.from(entries.map(([, entry]) => entry.published)),
    hashes: entries.map(([, entry]) => entry.contentHash),
  };
  writeFileSync(file, Buffer.concat(encodeCacheFile(header, entries.map(([, entry]) => Buffer.from(JSON.stringify(entry.article))))));
}

/** A content folder with two records and a cache file beside it (outside the folder). */
async function setup() {
  const folder = await folderWith({
    'a.md': record('First talks paragraph.', 'title: Record A\npublished: 2025-07-23T10:00:00+03:00\nsource: Test'),
    'b.md': record('A protest paragraph.', 'title: Record B\npublished: 2025-07-23T11:00:00+03:00\nsource: Test'),
  });
  const cacheFile = `${folder.dir}.cache`;
  cleanups.push(folder.cleanup, () => rm(cacheFile, { force: true }));
  const load = (key = 'key-1') => loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone, cache: { file: cacheFile, key } });
  const stored = () => readCacheFile(cacheFile);
  /** Changes the cache file as a test needs (to mark what comes from it, or to move the time it was made). */
  const rewrite = (change: (cache: CacheView) => void) => {
    const cache = stored();
    change(cache);
    writeCacheFile(cacheFile, cache);
  };
  return { folder, cacheFile, load, stored, rewrite };
}

describe('loadArticles with a parse cache', () => {
  it('gives the same articles as a load without a cache, on the first load and from the cache', async () => {
    const { folder, load, stored } = await setup();
    const plain = await loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone });
    expect(await load()).toEqual(plain);
    // The bodies are not kept: a cached article parses its record when its body is read.
    expect(Object.keys(stored().entries['a.md']?.article ?? {})).not.toContain('html');
    const cached = await load();
    expect(cached).toEqual(plain);
    expect(cached.map((article) => article.sections)).toEqual(plain.map((article) => article.sections));
  });

  it('serves an unchanged record from the cache and parses a changed one again', async () => {
    const { folder, load, stored, rewrite } = await setup();
    await load();
    // Mark the cached articles, so what comes from the cache can be told from what is parsed.
    rewrite((cache) => {
      for (const { article } of Object.values(cache.entries)) article.title = `cached ${article.title}`;
    });
    await writeFile(path.join(folder.dir, 'b.md'), record('An edited protest paragraph.', 'title: Record B edited\npublished: 2025-07-23T11:00:00+03:00\nsource: Test'));
    const articles = await load();
    expect(articles.map((article) => article.title)).toEqual(['Record B edited', 'cached Record A']);
    expect(stored().entries['b.md']?.article.title).toBe('Record B edited');
  });

  it('parses everything again under another key (other topics, zone or program)', async () => {
    const { load, stored, rewrite } = await setup();
    await load('key-1');
    rewrite((cache) => {
      for (const { article } of Object.values(cache.entries)) article.title = 'stale';
    });
    expect((await load('key-2')).map((article) => article.title)).toEqual(['Record B', 'Record A']);
    expect(stored().key).toBe('key-2');
  });

  it('forgets removed records and survives a damaged cache file', async () => {
    const { folder, cacheFile, load, stored } = await setup();
    await load();
    await rm(path.join(folder.dir, 'a.md'));
    await load();
    expect(Object.keys(stored().entries)).toEqual(['b.md']);
    writeFileSync(cacheFile, 'not a cache');
    expect((await load()).map((article) => article.id)).toEqual(['b']);
    expect(Object.keys(stored().entries)).toEqual(['b.md']);
    // Cut short in the last article's text (a full disk, a copy stopped halfway): parsed again, and rewritten whole.
    writeFileSync(cacheFile, readFileSync(cacheFile).subarray(0, -5));
    expect(() => decodeCacheFile(readFileSync(cacheFile))).toThrow();
    expect((await load()).map((article) => article.title)).toEqual(['Record B']);
    expect(stored().entries['b.md']?.article.title).toBe('Record B');
  });

  it('reports the problems of a bad record as without a cache, and caches only good ones', async () => {
    const { folder, load, stored } = await setup();
    await writeFile(path.join(folder.dir, 'c.md'), '---\ntitle: [unclosed\n---\nBody.\n');
    await expect(load()).rejects.toThrow(/c\.md:2: invalid YAML/);
    expect(Object.keys(stored().entries).sort()).toEqual(['a.md', 'b.md']);
  });

  /**
   * Marks the cached articles and breaks their content hashes: a record served by its stamp alone
   * comes back marked, one that was read and hashed no longer matches its entry and is parsed anew.
   */
  const markAndUnhash = (cache: CacheView) => {
    for (const entry of Object.values(cache.entries)) {
      entry.article.title = `cached ${entry.article.title}`;
      entry.contentHash = 'not the hash of any record';
    }
  };
  /** As if the load that wrote the cache had come well after the records were last written. */
  const seenLater = (cache: CacheView) => {
    cache.statedAt = Date.now() + 60_000;
  };

  it('serves a record whose stamp vouches for its bytes without reading it', async () => {
    const { load, rewrite } = await setup();
    await load();
    rewrite((cache) => {
      markAndUnhash(cache);
      seenLater(cache);
    });
    expect((await load()).map((article) => article.title)).toEqual(['cached Record B', 'cached Record A']);
  });

  it('starts the load of a resident caller (build --watch) from what its last load kept, not from the file, which it writes when saved', async () => {
    const { folder, cacheFile, load, stored, rewrite } = await setup();
    const memory: ArticleCacheMemory = {};
    const resident = () => loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone, cache: { file: cacheFile, key: 'key-1', memory } });
    await resident();
    expect(existsSync(cacheFile)).toBe(false);
    saveArticleCache(memory, cacheFile);
    // A file that would serve marked articles without reading the records: a load from the file shows the marks.
    rewrite((cache) => {
      markAndUnhash(cache);
      seenLater(cache);
    });
    expect((await resident()).map((article) => article.title)).toEqual(['Record B', 'Record A']);

    await writeFile(path.join(folder.dir, 'b.md'), record('An edited protest paragraph.', 'title: Record B edited\npublished: 2025-07-23T11:00:00+03:00\nsource: Test'));
    expect((await resident()).map((article) => article.title)).toEqual(['Record B edited', 'Record A']);
    saveArticleCache(memory, cacheFile);
    expect(stored().entries['b.md']?.article.title).toBe('Record B edited');
    // The file as another process reads it: what the resident loads kept.
    expect((await load()).map((article) => article.title)).toEqual(['Record B edited', 'Record A']);
  });

  it('gives a resident caller the same record of an unchanged record at every load, and lets go of what a build parsed of it', async () => {
    const { folder, cacheFile } = await setup();
    const memory: ArticleCacheMemory = {};
    const resident = () => loadArticleIndex({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone, cache: { file: cacheFile, key: 'key-1', memory } });
    const topicsOf = (entries: Awaited<ReturnType<typeof resident>>) => entries.map((entry) => entry.article().topics);
    // A stamp vouches for its record's bytes once it is a moment older than the load that took it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await resident();
    const second = await resident();
    const secondTopics = topicsOf(second);
    // Parsed once while the build runs; let go once it is done, as the resident builder does, so an idle watch keeps none of it.
    expect(topicsOf(second)[0]).toBe(secondTopics[0]);
    forgetParsedArticles(memory);
    const third = await resident();
    expect(third.map((entry) => entry.id)).toEqual(['b', 'a']);
    third.forEach((entry, index) => {
      // The record kept as it was: the same object, not another made of the same entry.
      expect(entry.published).toBe(second[index]?.published);
      // What the last build parsed of it was let go: parsed again, to the same article.
      expect(entry.article().topics).toEqual(secondTopics[index]);
      expect(entry.article().topics).not.toBe(secondTopics[index]);
    });

    await writeFile(path.join(folder.dir, 'b.md'), record('An edited protest paragraph.', 'title: Record B edited\npublished: 2025-07-23T11:00:00+03:00\nsource: Test'));
    const fourth = await resident();
    expect(fourth.map((entry) => entry.article().title)).toEqual(['Record B edited', 'Record A']);
    expect(fourth[0]?.published).not.toBe(third[0]?.published);
    expect(fourth[1]?.published).toBe(third[1]?.published);
  });

  it('reads and hashes a record written in the moments before its stamp was taken', async () => {
    // The records were written just before the first load: a same-size rewrite within the file system's
    // time step could keep their stamps, so those stamps do not vouch yet.
    const { load, rewrite } = await setup();
    await load();
    rewrite(markAndUnhash);
    expect((await load()).map((article) => article.title)).toEqual(['Record B', 'Record A']);
  });

  it('notices an edit of the same size whose modification time was put back', async () => {
    const { folder, load, rewrite } = await setup();
    // A modification time that a later utimes can put back exactly.
    const file = path.join(folder.dir, 'b.md');
    const mtime = new Date('2025-07-23T12:00:00Z');
    utimesSync(file, mtime, mtime);
    await load();
    rewrite(seenLater);
    const edited = record('A protest paragraph.', 'title: Record X\npublished: 2025-07-23T11:00:00+03:00\nsource: Test');
    expect(Buffer.byteLength(edited)).toBe(statSync(file).size);
    await writeFile(file, edited);
    utimesSync(file, mtime, mtime);
    expect(statSync(file).mtimeMs).toBe(mtime.getTime());
    expect((await load()).map((article) => article.title)).toEqual(['Record X', 'Record A']);
  });

  it('parses what it keeps of a record only when the article is asked for, and the record itself should that be damaged', async () => {
    const { folder, cacheFile, load, rewrite } = await setup();
    await load();
    rewrite((cache) => {
      seenLater(cache);
      for (const { article } of Object.values(cache.entries)) article.title = `cached ${article.title}`;
    });
    // Break the stored article of b.md: the index does not need it; the article falls back on the record.
    const { header, texts } = decodeCacheFile(readFileSync(cacheFile));
    const raw = header as CacheFile;
    texts[raw.names.indexOf('b.md')] = Buffer.from('{ not JSON');
    writeFileSync(cacheFile, Buffer.concat(encodeCacheFile(raw, texts)));
    const index = await loadArticleIndex({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone, cache: { file: cacheFile, key: 'key-1' } });
    expect(index.map((entry) => entry.id)).toEqual(['b', 'a']);
    expect(index.map((entry) => entry.article().title)).toEqual(['Record B', 'cached Record A']);
  });

  it('gives a cached article read for its html alone the html a full parse gives', async () => {
    const { folder, load, rewrite } = await setup();
    // A byte-order mark, CRLF line ends, sections, a list and a link: all that shapes the HTML.
    const body = 'Talks paragraph with a [link](https://example.org/a?b=1&c=2).\r\n\r\n## Streets\r\n\r\n- one\r\n- *two*\r\n';
    await writeFile(path.join(folder.dir, 'a.md'), `\uFEFF${record(body, 'title: Record A\r\npublished: 2025-07-23T10:00:00+03:00\r\nsource: Test')}`);
    const plain = await loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone });
    await load();
    rewrite(seenLater);
    const cached = await load();
    expect(cached.map((article) => article.html)).toEqual(plain.map((article) => article.html));
    expect(cached.map((article) => article.sections)).toEqual(plain.map((article) => article.sections));
  });

  it('refuses to mix the bytes of a record changed after the load with what was cached of it', async () => {
    const { folder, load, rewrite } = await setup();
    await load();
    rewrite(seenLater);
    const [recordB] = await load();
    await writeFile(path.join(folder.dir, 'b.md'), record('Another paragraph.', 'title: Record B\npublished: 2025-07-23T11:00:00+03:00\nsource: Test'));
    expect(() => recordB?.html).toThrow(/b\.md changed while the build was running/);
  });

  it('says the same of a record removed after the load', async () => {
    const { folder, load, rewrite } = await setup();
    await load();
    rewrite(seenLater);
    const [, recordA] = await load();
    await rm(path.join(folder.dir, 'a.md'));
    expect(() => recordA?.sections).toThrow(/a\.md changed while the build was running/);
  });
});
