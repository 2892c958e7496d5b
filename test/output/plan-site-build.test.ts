import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/content/article.js';
import { indexArticle } from '../../src/content/indexed-article.js';
import { parseManifest, serializeManifest, type BuildManifest, type PlannedManifest } from '../../src/output/build-manifest.js';
import { OutputPathMap } from '../../src/output/output-path-map.js';
import { planSiteBuild, type SiteBuildPlan } from '../../src/output/plan-site-build.js';
import { compileSiteTemplates, readSiteTemplates, type SiteTemplates } from '../../src/output/site-templates.js';
import { editArticle, makeArticle, makeArticles, testSite } from '../feed/article-fixture.js';

const TEMPLATES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../templates');
// 12 articles, 3 in the subscription feeds, archive pages of 4: pages 1 and 2 full, page 3 with one.
const site = { ...testSite, feed: { items: 3, archivePageSize: 4 } };
let templates: SiteTemplates;

beforeAll(async () => {
  templates = compileSiteTemplates(await readSiteTemplates(TEMPLATES));
});

/** A folder of built files, kept in memory: what the build would leave in output/. */
interface Site {
  files: Map<string, string>;
  plan: SiteBuildPlan;
}

/** A plan's manifest as the next build reads it back. */
const written = (manifest: PlannedManifest): BuildManifest | undefined => parseManifest(serializeManifest(manifest).toString('utf8'));
/** The files of a built site as the build lists output/. */
const listing = (paths: Iterable<string>): OutputPathMap<true> => OutputPathMap.of([...paths].map((path) => [path, true] as const));
const pathsOf = (manifest: PlannedManifest): string[] => [...manifest.outputs()].map(([file]) => file);

function build(articles: readonly Article[], before?: Site, buildKey = 'key-1'): Site {
  const files = new Map(before?.files ?? []);
  const plan = planSiteBuild({ articles: articles.map(indexArticle), site, templates, buildKey, previous: before === undefined ? undefined : written(before.plan.manifest), existing: listing(files.keys()) });
  for (const batch of plan.batches) for (const job of batch) for (const [file, text] of job.render()) files.set(file, text);
  for (const file of plan.stale) files.delete(file);
  return { files, plan };
}

const renderedIn = (plan: SiteBuildPlan): string[] => plan.batches.flatMap((batch) => [...batch].flatMap((job) => job.paths)).sort();
const sorted = (files: Map<string, string>): Array<[string, string]> => [...files].sort(([a], [b]) => (a < b ? -1 : 1));

function expectSameAsFullBuild(incremental: Site, articles: readonly Article[]): void {
  const full = build(articles);
  expect(sorted(incremental.files)).toEqual(sorted(full.files));
  expect(serializeManifest(incremental.plan.manifest).equals(serializeManifest(full.plan.manifest))).toBe(true);
}

describe('planSiteBuild', () => {
  const articles = makeArticles(12);

  it('renders everything the first time, in batches: style sheet, archive pages with their articles, newest articles with the subscription feeds, home page', () => {
    const { plan, files } = build(articles);
    expect(plan.reused).toBe(0);
    expect(plan.rendered).toBe(files.size);
    // Style sheet, article pages, and for the subscription feed and each of 3 archive pages three feed formats and a page.
    expect(files.size).toBe(1 + 12 + 4 * 4);
    const [stylesheet, archive, current, home] = plan.batches.map((batch) => [...batch].map((job) => job.paths));
    // A batch of its own: with two threads rendering, no article page can reach the disk before it.
    expect(stylesheet).toEqual([['style.css']]);
    // One job per archive page: its articles' pages first (the feeds and the list link to them), then its feeds and its page.
    const pageOf = (page: number, ids: number[]): string[] => [
      ...ids.map((id) => `articles/a-${String(id).padStart(3, '0')}.html`),
      `archive/feed-${page}.xml`,
      `archive/atom-${page}.xml`,
      `archive/feed-${page}.json`,
      `archive/page-${page}.html`,
    ];
    // Pages of 4 counted from the oldest article: page 3, the newest, holds the one left over.
    expect(archive).toEqual([pageOf(3, [9]), pageOf(2, [8, 7, 6, 5]), pageOf(1, [4, 3, 2, 1])]);
    expect(current).toEqual([['articles/a-012.html', 'articles/a-011.html', 'articles/a-010.html', 'feed.xml', 'atom.xml', 'feed.json']]);
    expect(home).toEqual([['index.html']]);
    // The files of a job come out in the order of its paths.
    const job = [...(plan.batches[1] ?? [])][0];
    expect([...(job?.render().keys() ?? [])]).toEqual(archive?.[0]);
  });

  it('writes its manifest as the JSON of the object of its paths and keys, in the order it plans them', () => {
    const { plan } = build(articles);
    const outputs = [...plan.manifest.outputs()];
    expect(outputs.map(([file]) => file).slice(0, 3)).toEqual(['style.css', 'articles/a-012.html', 'articles/a-011.html']);
    expect(new Set(outputs.map(([file]) => file)).size).toBe(outputs.length);
    expect(serializeManifest(plan.manifest).toString('utf8')).toBe(`${JSON.stringify({ version: 2, buildKey: 'key-1', outputs: Object.fromEntries(outputs) })}\n`);
  });

  it('writes a manifest larger than one piece of its encoding as the same JSON, characters beyond ASCII included', () => {
    const entries = Array.from({ length: 5000 }, (_, index) => [`articles/köln-день-${index}.html`, `key-"${index}"`] as const);
    const manifest = { buildKey: 'bé', outputs: () => entries };
    expect(serializeManifest(manifest).toString('utf8')).toBe(`${JSON.stringify({ version: 2, buildKey: 'bé', outputs: Object.fromEntries(entries) })}\n`);
  });

  it('renders nothing when nothing changed', () => {
    const first = build(articles);
    const second = build(articles, first);
    expect(renderedIn(second.plan)).toEqual([]);
    expect(second.plan.reused).toBe(first.files.size);
    expect(second.plan.stale).toEqual([]);
  });

  it('renders only the changed article page and the archive feed and page holding it', () => {
    const first = build(articles);
    const edited = articles.map((article) => (article.id === 'a-002' ? editArticle(article, { title: 'Edited title', updated: new Date('2025-08-01T00:00:00Z') }) : article));
    const second = build(edited, first);
    expect(renderedIn(second.plan)).toEqual(['archive/atom-1.xml', 'archive/feed-1.json', 'archive/feed-1.xml', 'archive/page-1.html', 'articles/a-002.html']);
    expectSameAsFullBuild(second, edited);
    // Listed as pending before any is written: should the build stop, the old manifest vouches for none of them.
    expect([...second.plan.pending()].sort()).toEqual(renderedIn(second.plan));
  });

  it('reads in full only the articles of the pages it renders, and none to plan', () => {
    const first = build(articles);
    const edited = articles.map((article) => (article.id === 'a-002' ? editArticle(article, { title: 'Edited title' }) : article));
    const read = new Set<string>();
    const entries = edited.map((article) => ({
      ...indexArticle(article),
      article: () => {
        read.add(article.id);
        return article;
      },
    }));
    const plan = planSiteBuild({ articles: entries, site, templates, buildKey: 'key-1', previous: written(first.plan.manifest), existing: listing(first.files.keys()) });
    expect([...read]).toEqual([]);
    for (const batch of plan.batches) for (const job of batch) job.render();
    // The edited article's page, and archive page 1 (feeds and HTML) with it and the three next to it.
    expect([...read].sort()).toEqual(['a-001', 'a-002', 'a-003', 'a-004']);
  });

  it('reads each article once in a full build, for its page, its feed page and the HTML twin of that page; the home page reads the newest again', () => {
    const reads = new Map<string, number>();
    const entries = articles.map((article) => ({
      ...indexArticle(article),
      article: () => {
        reads.set(article.id, (reads.get(article.id) ?? 0) + 1);
        return article;
      },
    }));
    const plan = planSiteBuild({ articles: entries, site, templates, buildKey: 'key-1', previous: undefined, existing: new OutputPathMap() });
    for (const batch of plan.batches) for (const job of batch) job.render();
    expect(Object.fromEntries(reads)).toEqual(Object.fromEntries(articles.map((article) => [article.id, ['a-010', 'a-011', 'a-012'].includes(article.id) ? 2 : 1])));
  });

  it('renders the changed article page, the subscription feeds and the home page for a change to one of the newest', () => {
    const first = build(articles);
    const edited = articles.map((article) => (article.id === 'a-011' ? editArticle(article, { summary: 'A new summary.' }) : article));
    const second = build(edited, first);
    expect(renderedIn(second.plan)).toEqual(['articles/a-011.html', 'atom.xml', 'feed.json', 'feed.xml', 'index.html']);
    expectSameAsFullBuild(second, edited);
  });

  it('renders the new article, the subscription feeds, the newest archive page and the home page when one arrives', () => {
    const first = build(articles);
    const more = [...articles, makeArticle({ id: 'a-013', published: new Date(Date.UTC(2025, 6, 1, 12)) })];
    const second = build(more, first);
    expect(renderedIn(second.plan)).toEqual([
      'archive/atom-3.xml',
      'archive/feed-3.json',
      'archive/feed-3.xml',
      'archive/page-3.html',
      'articles/a-013.html',
      'atom.xml',
      'feed.json',
      'feed.xml',
      'index.html',
    ]);
    expectSameAsFullBuild(second, more);
  });

  it('removes the page of a removed article and archive pages no longer needed', () => {
    const first = build(articles);
    const fewer = articles.filter((article) => article.id !== 'a-012' && article.id !== 'a-011');
    const second = build(fewer, first);
    expect(second.plan.stale.sort()).toEqual([
      'archive/atom-3.xml',
      'archive/feed-3.json',
      'archive/feed-3.xml',
      'archive/page-3.html',
      'articles/a-011.html',
      'articles/a-012.html',
    ]);
    expectSameAsFullBuild(second, fewer);
  });

  it('renders a file again when it has gone missing', () => {
    const first = build(articles);
    first.files.delete('articles/a-005.html');
    first.files.delete('archive/atom-2.xml');
    const second = build(articles, first);
    // A feed page is rendered in its three formats together.
    expect(renderedIn(second.plan)).toEqual(['archive/atom-2.xml', 'archive/feed-2.json', 'archive/feed-2.xml', 'articles/a-005.html']);
    expectSameAsFullBuild(second, articles);
  });

  it('renders everything again when the build key (config, templates, program) changes', () => {
    const first = build(articles);
    const second = build(articles, first, 'key-2');
    expect(second.plan.reused).toBe(0);
    expect(renderedIn(second.plan)).toHaveLength(first.files.size);
  });

  it('renders everything after a manifest of the first format, and removes the files it names that are no longer made', () => {
    const first = build(articles);
    const older = JSON.stringify({ version: 1, outputs: { ...Object.fromEntries(first.plan.manifest.outputs()), 'articles/gone.html': 'key' } });
    const plan = planSiteBuild({ articles: articles.map(indexArticle), site, templates, buildKey: 'key-1', previous: parseManifest(older), existing: listing(first.files.keys()) });
    expect(plan.reused).toBe(0);
    expect(plan.stale).toEqual(['articles/gone.html']);
  });

  it.each([
    ['not JSON', '{"version": 2,'],
    ['of an unknown version', '{"version": 3, "buildKey": "k", "outputs": {}}'],
    ['without a build key', '{"version": 2, "outputs": {}}'],
    ['with a key that is not text', '{"version": 2, "buildKey": "k", "outputs": {"index.html": 1}}'],
  ])('takes a manifest %s for none: a full build', (_name, text) => {
    expect(parseManifest(text)).toBeUndefined();
  });

  it('still removes what the last build made and this one does not when the build key changes', () => {
    const first = build(articles);
    // Larger archive pages (a config change, so another build key): the 9 archived articles fit on one.
    const larger = { ...site, feed: { items: 3, archivePageSize: 9 } };
    const plan = planSiteBuild({ articles: articles.map(indexArticle), site: larger, templates, buildKey: 'key-2', previous: written(first.plan.manifest), existing: listing(first.files.keys()) });
    expect(plan.stale.sort()).toEqual([
      'archive/atom-2.xml',
      'archive/atom-3.xml',
      'archive/feed-2.json',
      'archive/feed-2.xml',
      'archive/feed-3.json',
      'archive/feed-3.xml',
      'archive/page-2.html',
      'archive/page-3.html',
    ]);
  });
});
