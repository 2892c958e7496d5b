import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openArticleSpool, packArticle } from '../../src/content/article-spool.js';
import { loadArticleIndex, loadArticles } from '../../src/content/load-articles.js';
import { createArticleParser } from '../../src/content/parse-article.js';
import type { ParsedArticle, RecordToParse, SharedParser } from '../../src/content/shared-parse.js';
import { compiled, folderWith, generatedRecords, testRecordLimit, testTopics } from './helpers.js';

const rules = { topics: testTopics, timeZone: 'Europe/Kyiv' };
let cleanup: (() => Promise<void>) | undefined;
let parser: SharedParser | undefined;
afterEach(async () => {
  parser?.close();
  parser = undefined;
  await cleanup?.();
  cleanup = undefined;
});

describe('parsing on two threads', () => {
  it('gives every record the result one thread gives it, whichever thread parsed it', async () => {
    const { createSharedParser } = await compiled<typeof import('../../src/content/shared-parse.js')>('content/shared-parse.js');
    const single = createArticleParser(rules);
    const batch: RecordToParse[] = Object.entries(generatedRecords(200, false)).map(([name, text]) => ({ text, file: `content/${name}`, id: name.slice(0, -3) }));
    parser = createSharedParser(rules, (item) => single.parse(item.text, item.file, item.id), false);
    const begun = parser.begin(batch);
    // The helper starts and takes records while this thread is away; then both share the rest.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const first = begun.finish();
    const second = parser.begin(batch).finish();
    const expected = batch.map((item) => single.parse(item.text, item.file, item.id));
    expect(parser.helperParsed).toBeGreaterThan(0);
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    expect(expected.filter((result) => result.problems !== undefined)).toHaveLength(8);
  });

  it('packs every article for a build as one thread packs it, whichever thread parsed it', async () => {
    const { createSharedParser } = await compiled<typeof import('../../src/content/shared-parse.js')>('content/shared-parse.js');
    const single = createArticleParser(rules);
    const packed = (item: RecordToParse): ParsedArticle => {
      const result = single.parse(item.text, item.file, item.id);
      return result.article === undefined ? result : { article: packArticle(result.article) };
    };
    const batch: RecordToParse[] = Object.entries(generatedRecords(200, false)).map(([name, text]) => ({ text, file: `content/${name}`, id: name.slice(0, -3) }));
    parser = createSharedParser(rules, packed, true);
    const begun = parser.begin(batch);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const results = begun.finish();
    expect(parser.helperParsed).toBeGreaterThan(0);
    const expected = batch.map(packed);
    expect(results).toEqual(expected);
    // Bytes the loading thread writes as they are: Buffers again, not the byte arrays the helper posted.
    for (const result of results) {
      if (result.article !== undefined && 'cache' in result.article) expect([result.article.head, result.article.sections, result.article.cache.text].every(Buffer.isBuffer)).toBe(true);
    }
  });

  it('loads a build\'s spooled index as one thread does, its articles read back the same', async () => {
    const compiledLoad = await compiled<typeof import('../../src/content/load-articles.js')>('content/load-articles.js');
    const compiledSpool = await compiled<typeof import('../../src/content/article-spool.js')>('content/article-spool.js');
    const folder = await folderWith(generatedRecords(300, true));
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'briefing-spool-'));
    cleanup = async () => {
      await folder.cleanup();
      await rm(spoolDir, { recursive: true, force: true });
    };
    const options = { dir: folder.dir, topics: testTopics, timeZone: 'Europe/Kyiv', maxRecordBytes: testRecordLimit };
    const twoSpool = compiledSpool.openArticleSpool(spoolDir);
    const oneSpool = openArticleSpool(spoolDir);
    const twoThreads = await compiledLoad.loadArticleIndex({ ...options, spool: twoSpool });
    const oneThread = await loadArticleIndex({ ...options, spool: oneSpool });
    expect(twoThreads.map((entry) => [entry.id, entry.published, entry.contentHash])).toEqual(oneThread.map((entry) => [entry.id, entry.published, entry.contentHash]));
    twoThreads.forEach((entry, index) => {
      const [two, one] = [entry.article(), oneThread[index]?.article()];
      expect({ ...two, sections: two.sections }).toEqual({ ...one, sections: one?.sections });
    });
    twoSpool.close();
    oneSpool.close();
  });

  it('loads many records as one thread does: the same articles, the same problems in name order', async () => {
    const compiledLoad = await compiled<typeof import('../../src/content/load-articles.js')>('content/load-articles.js');
    for (const valid of [true, false]) {
      const folder = await folderWith(generatedRecords(300, valid));
      cleanup = folder.cleanup;
      const options = { dir: folder.dir, topics: testTopics, timeZone: 'Europe/Kyiv', maxRecordBytes: testRecordLimit };
      const twoThreads = await compiledLoad.loadArticles(options).catch((error: Error) => error);
      const oneThread = await loadArticles(options).catch((error: Error) => error);
      if (valid) {
        expect(twoThreads).toHaveLength(300);
        expect(twoThreads).toEqual(oneThread);
      } else {
        const lines = (twoThreads as Error).message.split('\n');
        expect((twoThreads as Error).message).toBe((oneThread as Error).message);
        // The summary, then the twelve broken records' problems in name order.
        expect(lines).toHaveLength(13);
        expect(lines.slice(1)).toEqual([...lines.slice(1)].sort());
      }
      await folder.cleanup();
      cleanup = undefined;
    }
  });
});
