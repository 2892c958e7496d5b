import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildFeeds } from '../../src/feed/build-feeds.js';
import { planFeedPages } from '../../src/feed/feed-pages.js';
import { editArticle, makeArticles, testSite } from './article-fixture.js';
import { conformance, REFERENCE } from '../support/outside-material.js';
import { feedTexts, readFeeds, validateAtom, writeToTemporaryFolder, type FeedView } from './feed-clients.js';

const SITE_URL = testSite.siteUrl;
// 23 articles, 3 in the subscription feeds, pages of 4: archive pages 1…5, all full.
const site = { ...testSite, feed: { items: 3, archivePageSize: 4 } };
const articles = makeArticles(23);
const allIds = articles.map((article) => `${SITE_URL}articles/${article.id}.html`).sort();

describe('the archive (RFC 5005)', () => {
  let folder: string;
  let views: Map<string, FeedView>;
  const files = feedTexts(buildFeeds(articles, site).files);

  beforeAll(async () => {
    folder = writeToTemporaryFolder(files);
    const parsed = await readFeeds([...files.keys()].filter((file) => file.endsWith('.xml')).map((file) => path.join(folder, file)));
    views = new Map(parsed.map((view) => [path.relative(folder, view.file), view]));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const local = (url: string): string => url.slice(SITE_URL.length);
  const linkOf = (view: FeedView | undefined, rel: string): string | undefined => view?.reader.feed.links.find((link) => link.rel === rel)?.href;

  it.each(['feed.xml', 'atom.xml'])('reaches every article exactly once following prev-archive from %s', (start) => {
    const seen: string[] = [];
    const visited: string[] = [];
    let next: string | undefined = start;
    while (next !== undefined) {
      const view = views.get(next);
      expect(view, `${next} exists`).toBeDefined();
      expect(view?.reader.bozo).toBe(0);
      visited.push(next);
      seen.push(...(view?.reader.entries.map((entry) => entry.id) ?? []));
      const previous = linkOf(view, 'prev-archive');
      next = previous === undefined ? undefined : local(previous);
    }
    expect(visited).toHaveLength(6);
    expect(seen).toHaveLength(allIds.length);
    expect([...seen].sort()).toEqual(allIds);
  });

  it.each(['feed', 'atom'])('marks %s archive pages with fh:archive and links them to the current feed and to each other', (stem) => {
    const current = `${SITE_URL}${stem === 'atom' ? 'atom.xml' : 'feed.xml'}`;
    for (let page = 1; page <= 5; page += 1) {
      const view = views.get(`archive/${stem}-${page}.xml`);
      expect(view?.xml.archive).toBe(true);
      expect(linkOf(view, 'current')).toBe(current);
      expect(linkOf(view, 'self')).toBe(`${SITE_URL}archive/${stem}-${page}.xml`);
      expect(linkOf(view, 'prev-archive')).toBe(page > 1 ? `${SITE_URL}archive/${stem}-${page - 1}.xml` : undefined);
      expect(linkOf(view, 'next-archive')).toBe(page < 5 ? `${SITE_URL}archive/${stem}-${page + 1}.xml` : undefined);
    }
  });

  it('counts pages from the oldest article and lists each page newest first', () => {
    const oldest = views.get('archive/atom-1.xml')?.reader.entries.map((entry) => local(entry.id));
    expect(oldest).toEqual(['articles/a-004.html', 'articles/a-003.html', 'articles/a-002.html', 'articles/a-001.html']);
  });

  it('keeps every archive page valid Atom', async () => {
    const atomFiles = [...files.keys()].filter((file) => file.includes('atom')).map((file) => path.join(folder, file));
    expect((await validateAtom(atomFiles)).code).toBe(0);
  });

  conformance("keeps every archive page valid by RFC 4287's own schema", [REFERENCE.atomSchema], async () => {
    const atomFiles = [...files.keys()].filter((file) => file.includes('atom')).map((file) => path.join(folder, file));
    expect((await validateAtom(atomFiles, REFERENCE.atomSchema)).code).toBe(0);
  });

  it('chains JSON feed pages with next_url from the subscription feed to the oldest page', () => {
    const seen: string[] = [];
    let next: string | undefined = 'feed.json';
    let pages = 0;
    while (next !== undefined) {
      const document = JSON.parse(files.get(next) ?? 'null') as { items: Array<{ id: string }>; next_url?: string };
      seen.push(...document.items.map((item) => item.id));
      pages += 1;
      next = document.next_url === undefined ? undefined : local(document.next_url);
    }
    expect(pages).toBe(6);
    expect([...seen].sort()).toEqual(allIds);
    expect(seen).toHaveLength(allIds.length);
  });
});

describe('archive stability', () => {
  const pagesOf = (count: number) => feedTexts(buildFeeds(makeArticles(count), site).files);

  it('leaves the older archive pages byte-identical when new articles arrive', () => {
    const before = pagesOf(23);
    const after = pagesOf(24);
    // Page 5 gains a next-archive link to the new page 6; pages 1-4 do not change at all.
    for (let page = 1; page <= 4; page += 1) {
      for (const file of [`archive/feed-${page}.xml`, `archive/atom-${page}.xml`, `archive/feed-${page}.json`]) {
        expect(after.get(file), file).toBe(before.get(file));
      }
    }
    expect(after.get('archive/atom-5.xml')).not.toBe(before.get('archive/atom-5.xml'));
    expect(after.has('archive/atom-6.xml')).toBe(true);
    const afterMore = feedTexts(buildFeeds(makeArticles(25), site).files);
    expect(afterMore.get('archive/atom-5.xml')).toBe(after.get('archive/atom-5.xml'));
  });

  it('plans pages the same whatever order the articles come in', () => {
    const shuffled = [...articles].reverse();
    expect(planFeedPages(shuffled, site.feed)).toEqual(planFeedPages(articles, site.feed));
  });

  it('gives byte-identical feeds for the same content, whatever the clock says', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
      const first = feedTexts(buildFeeds(articles, site).files);
      vi.setSystemTime(new Date('2031-06-15T12:34:56Z'));
      const second = feedTexts(buildFeeds(articles, site).files);
      expect([...second]).toEqual([...first]);
      for (const text of first.values()) expect(text).not.toMatch(/2030|2031/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('changes only the page that holds an edited article', () => {
    const edited = articles.map((article) => (article.id === 'a-002' ? editArticle(article, { updated: new Date('2025-08-01T00:00:00Z') }) : article));
    const before = feedTexts(buildFeeds(articles, site).files);
    const after = feedTexts(buildFeeds(edited, site).files);
    const changed = [...after.keys()].filter((file) => after.get(file) !== before.get(file)).sort();
    expect(changed).toEqual(['archive/atom-1.xml', 'archive/feed-1.json', 'archive/feed-1.xml']);
  });
});

describe('an empty publication', () => {
  it('still writes valid, parseable feeds with a fixed updated date', async () => {
    const files = feedTexts(buildFeeds([], testSite).files);
    expect([...files.keys()].sort()).toEqual(['atom.xml', 'feed.json', 'feed.xml']);
    const folder = writeToTemporaryFolder(files);
    try {
      expect((await validateAtom([path.join(folder, 'atom.xml')])).code).toBe(0);
      const views = await readFeeds([path.join(folder, 'feed.xml'), path.join(folder, 'atom.xml')]);
      for (const view of views) {
        expect(view.reader.bozo).toBe(0);
        expect(view.reader.entries).toEqual([]);
      }
      expect(files.get('atom.xml')).toContain('<updated>1970-01-01T00:00:00.000Z</updated>');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

