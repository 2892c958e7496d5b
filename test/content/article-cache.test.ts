import { readFileSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import type { Article } from '../../src/content/article.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { folderWith, record, testTopics } from './helpers.js';

const zone = 'Europe/Kyiv';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A content folder with two records and a cache file beside it (outside the folder). */
async function setup() {
  const folder = await folderWith({
    'a.md': record('First talks paragraph.', 'title: Record A\npublished: 2025-07-23T10:00:00+03:00\nsource: Test'),
    'b.md': record('A protest paragraph.', 'title: Record B\npublished: 2025-07-23T11:00:00+03:00\nsource: Test'),
  });
  const cacheFile = `${folder.dir}.cache`;
  cleanups.push(folder.cleanup, () => rm(cacheFile, { force: true }));
  const load = (key = 'key-1') => loadArticles({ dir: folder.dir, topics: testTopics, timeZone: zone, cache: { file: cacheFile, key } });
  const stored = () => deserialize(readFileSync(cacheFile)) as { key: string; articles: Record<string, Article> };
  return { folder, cacheFile, load, stored };
}

describe('loadArticles with a parse cache', () => {
  it('gives the same articles as a load without a cache, on the first load and from the cache', async () => {
    const { folder, load, stored } = await setup();
    const plain = await loadArticles({ dir: folder.dir, topics: testTopics, timeZone: zone });
    expect(await load()).toEqual(plain);
    // The bodies are not kept: a cached article parses its record when its body is read.
    expect(Object.keys(stored().articles['a.md'] ?? {})).not.toContain('html');
    const cached = await load();
    expect(cached).toEqual(plain);
    expect(cached.map((article) => article.sections)).toEqual(plain.map((article) => article.sections));
  });

  it('serves an unchanged record from the cache and parses a changed one again', async () => {
    const { folder, cacheFile, load, stored } = await setup();
    await load();
    // Mark the cached articles, so what comes from the cache can be told from what is parsed.
    const cache = stored();
    for (const article of Object.values(cache.articles)) article.title = `cached ${article.title}`;
    writeFileSync(cacheFile, serialize(cache));
    await writeFile(path.join(folder.dir, 'b.md'), record('An edited protest paragraph.', 'title: Record B edited\npublished: 2025-07-23T11:00:00+03:00\nsource: Test'));
    const articles = await load();
    expect(articles.map((article) => article.title)).toEqual(['Record B edited', 'cached Record A']);
    expect(stored().articles['b.md']?.title).toBe('Record B edited');
  });

  it('parses everything again under another key (other topics, zone or program)', async () => {
    const { load, cacheFile, stored } = await setup();
    await load('key-1');
    const cache = stored();
    for (const article of Object.values(cache.articles)) article.title = 'stale';
    writeFileSync(cacheFile, serialize(cache));
    expect((await load('key-2')).map((article) => article.title)).toEqual(['Record B', 'Record A']);
    expect(stored().key).toBe('key-2');
  });

  it('forgets removed records and survives a damaged cache file', async () => {
    const { folder, cacheFile, load, stored } = await setup();
    await load();
    await rm(path.join(folder.dir, 'a.md'));
    await load();
    expect(Object.keys(stored().articles)).toEqual(['b.md']);
    writeFileSync(cacheFile, 'not a cache');
    expect((await load()).map((article) => article.id)).toEqual(['b']);
    expect(Object.keys(stored().articles)).toEqual(['b.md']);
  });

  it('reports the problems of a bad record as without a cache, and caches only good ones', async () => {
    const { folder, load, stored } = await setup();
    await writeFile(path.join(folder.dir, 'c.md'), '---\ntitle: [unclosed\n---\nBody.\n');
    await expect(load()).rejects.toThrow(/c\.md:2: invalid YAML/);
    expect(Object.keys(stored().articles).sort()).toEqual(['a.md', 'b.md']);
  });
});
