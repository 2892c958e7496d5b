import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Article } from '../../src/content/article.js';
import { openArticleSpool } from '../../src/content/article-spool.js';
import type { IndexedArticle } from '../../src/content/indexed-article.js';
import { createArticleParser } from '../../src/content/parse-article.js';
import { compiled, record, testTopics } from './helpers.js';

// A full collection on demand, to see what the spool still holds.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function spoolFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'briefing-spool-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function parsed(body: string): Article {
  const result = createArticleParser({ topics: testTopics, timeZone: 'Europe/Kyiv' }).parse(record(body), 'a.md', 'a');
  if (result.article === undefined) throw new Error(JSON.stringify(result.problems));
  return result.article;
}

describe('openArticleSpool', () => {
  it('gives back what the site shows of a kept article, from an unlinked file', async () => {
    const dir = await spoolFolder();
    const spool = openArticleSpool(dir);
    const article = parsed('Ceasefire talks & more.\n\n## Later\n\nA second section with <b>markup</b> and ]]> and \u00e9.');
    const again = spool.keep(article);
    expect(await readdir(dir)).toEqual([]);
    const { body: _body, sections, ...rest } = article;
    const shown = { ...rest, sections: sections.map(({ blocks, ...section }) => ({ ...section, blocks: blocks.map((block) => ({ html: block.html })) })) };
    expect(shown.sections.flatMap((section) => section.blocks)).toHaveLength(2);
    expect({ ...again.article(), sections: again.article().sections }).toEqual(shown);
    // The Markdown and the blocks' plain text stay out: the pages and feeds never read them.
    expect('body' in again.article()).toBe(false);
    expect([again.id, again.published, again.contentHash]).toEqual([article.id, article.published, article.contentHash]);
    spool.close();
  });

  it('holds no kept article in memory: a build keeps ten thousand of them', async () => {
    const spool = openArticleSpool(await spoolFolder());
    const keep = (): { again: IndexedArticle; gone: WeakRef<Article>; title: string } => {
      const article = parsed('Ceasefire talks resume.');
      return { again: spool.keep(article), gone: new WeakRef(article), title: article.title };
    };
    const { again, gone, title } = keep();
    // A WeakRef keeps its target until the end of the job that made it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(gone.deref()).toBeUndefined();
    expect(again.article().title).toBe(title);
    spool.close();
  });

  it('gives every one of many kept articles back, its id, time and hash included, as its rows grow', async () => {
    const spool = openArticleSpool(await spoolFolder());
    // More than the rows' first 256: they are copied into larger arrays twice.
    const articles = Array.from({ length: 600 }, (_, index) => ({ ...parsed(`Story number ${index}.`), id: `story-${index}`, published: new Date(Date.UTC(2025, 6, 1) + index * 60_000) }));
    const entries = articles.map((article) => spool.keep(article));
    expect(new Set(articles.map((article) => article.contentHash)).size).toBe(600);
    entries.forEach((entry, index) => {
      const article = articles[index] as Article;
      expect([entry.id, entry.published, entry.contentHash]).toEqual([article.id, article.published, article.contentHash]);
      expect([entry.article().id, entry.article().html]).toEqual([article.id, article.html]);
    });
    spool.close();
  });

  it('refuses an article whose content hash is not a SHA-256 digest rather than give back another one', async () => {
    const spool = openArticleSpool(await spoolFolder());
    expect(() => spool.keep({ ...parsed('Ceasefire talks resume.'), contentHash: 'not-a-digest' })).toThrow(/SHA-256/);
    spool.close();
  });

  it('keeps an article in memory, as the site shows it, when the spool cannot grow (a file-size limit here)', async () => {
    // A process of its own under a 64 KB file-size limit, the write refused (EFBIG) rather than the process killed.
    await compiled('content/article-spool.js');
    const dist = (file: string): string => JSON.stringify(pathToFileURL(path.resolve('dist', file)).href);
    const script = [
      `process.on('SIGXFSZ', () => undefined);`,
      `const { openArticleSpool } = await import(${dist('content/article-spool.js')});`,
      `const { createArticleParser } = await import(${dist('content/parse-article.js')});`,
      `const text = process.env.SPOOL_RECORD;`,
      `const parsed = createArticleParser({ topics: [], timeZone: 'Europe/Kyiv' }).parse(text, 'a.md', 'a');`,
      `const spool = openArticleSpool(process.argv[1]);`,
      // Forty copies of a 4 KB article: the spool file reaches the limit part way.
      `const entries = Array.from({ length: 40 }, (_, index) => spool.keep({ ...parsed.article, id: 'a-' + index }));`,
      `const back = entries.map((entry) => { const article = entry.article(); return { id: article.id, html: article.html, published: article.published.toISOString(), sections: article.sections }; });`,
      `spool.close();`,
      `const spooled = entries.filter((entry) => entry.constructor.name === 'SpooledArticle').length;`,
      `process.stdout.write(JSON.stringify({ back, spooled }));`,
    ].join('\n');
    const dir = await spoolFolder();
    const text = record(`${'Ceasefire talks & more, at length. '.repeat(110)}\n\n## Later\n\nA second <b>section</b> ]]> \u00e9.`);
    const out = execFileSync('prlimit', ['--fsize=65536', process.execPath, '--input-type=module', '-e', script, dir], { encoding: 'utf8', env: { ...process.env, SPOOL_RECORD: text } });
    const { back, spooled } = JSON.parse(out) as { back: Array<{ id: string; html: string; published: string; sections: unknown }>; spooled: number };
    // Some went to the file before it was full, the rest stayed in memory: each comes back the same.
    expect(spooled).toBeGreaterThan(0);
    expect(spooled).toBeLessThan(40);
    const article = parsed(text.slice(text.indexOf('---\n', 4) + 4).trim());
    expect(back).toHaveLength(40);
    back.forEach((entry, index) => {
      expect(entry.id).toBe(`a-${index}`);
      expect(entry.published).toBe(article.published.toISOString());
      expect(entry.html).toBe(article.html);
      expect(entry.sections).toEqual(back[0]?.sections);
    });
    expect(back[0]?.html).toContain('&lt;b&gt;section&lt;/b&gt; ]]&gt; \u00e9');
  });
});
