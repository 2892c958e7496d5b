import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/content/article.js';
import { serializeManifest } from '../../src/output/build-manifest.js';
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

function build(articles: readonly Article[], before?: Site, buildKey = 'key-1'): Site {
  const files = new Map(before?.files ?? []);
  const plan = planSiteBuild({ articles, site, templates, buildKey, previous: before?.plan.manifest, existing: new Set(files.keys()) });
  for (const batch of plan.batches) for (const job of batch) for (const [file, text] of job.render()) files.set(file, text);
  for (const file of plan.stale) files.delete(file);
  return { files, plan };
}

const renderedIn = (plan: SiteBuildPlan): string[] => plan.batches.flatMap((batch) => batch.flatMap((job) => job.paths)).sort();
const sorted = (files: Map<string, string>): Array<[string, string]> => [...files].sort(([a], [b]) => (a < b ? -1 : 1));

function expectSameAsFullBuild(incremental: Site, articles: readonly Article[]): void {
  const full = build(articles);
  expect(sorted(incremental.files)).toEqual(sorted(full.files));
  expect(serializeManifest(incremental.plan.manifest)).toBe(serializeManifest(full.plan.manifest));
}

describe('planSiteBuild', () => {
  const articles = makeArticles(12);

  it('renders everything the first time, in batches: pages, archive, subscription feeds, home page', () => {
    const { plan, files } = build(articles);
    expect(plan.reused).toBe(0);
    expect(plan.rendered).toBe(files.size);
    expect(files.size).toBe(1 + 12 + 3 * 4 + 1);
    const [pages, archive, current, home] = plan.batches.map((batch) => batch.flatMap((job) => job.paths));
    expect(pages?.[0]).toBe('style.css');
    expect(pages?.slice(1).every((file) => file.startsWith('articles/'))).toBe(true);
    expect(archive?.every((file) => file.startsWith('archive/'))).toBe(true);
    expect(current?.sort()).toEqual(['atom.xml', 'feed.json', 'feed.xml']);
    expect(home).toEqual(['index.html']);
  });

  it('renders nothing when nothing changed', () => {
    const first = build(articles);
    const second = build(articles, first);
    expect(renderedIn(second.plan)).toEqual([]);
    expect(second.plan.reused).toBe(first.files.size);
    expect(second.plan.stale).toEqual([]);
  });

  it('renders only the changed article page, the archive page holding it and the home page', () => {
    const first = build(articles);
    const edited = articles.map((article) => (article.id === 'a-002' ? editArticle(article, { title: 'Edited title', updated: new Date('2025-08-01T00:00:00Z') }) : article));
    const second = build(edited, first);
    expect(renderedIn(second.plan)).toEqual(['archive/atom-1.xml', 'archive/feed-1.json', 'archive/feed-1.xml', 'articles/a-002.html', 'index.html']);
    expectSameAsFullBuild(second, edited);
    // While it runs, the manifest vouches only for the files it leaves alone.
    expect(Object.keys(second.plan.interim.outputs).sort()).toEqual(
      Object.keys(first.plan.manifest.outputs).filter((file) => !renderedIn(second.plan).includes(file)).sort(),
    );
  });

  it('renders the new article, the subscription feeds, the newest archive page and the home page when one arrives', () => {
    const first = build(articles);
    const more = [...articles, makeArticle({ id: 'a-013', published: new Date(Date.UTC(2025, 6, 1, 12)) })];
    const second = build(more, first);
    expect(renderedIn(second.plan)).toEqual([
      'archive/atom-3.xml',
      'archive/feed-3.json',
      'archive/feed-3.xml',
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
    expect(second.plan.stale.sort()).toEqual(['archive/atom-3.xml', 'archive/feed-3.json', 'archive/feed-3.xml', 'articles/a-011.html', 'articles/a-012.html']);
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
});
