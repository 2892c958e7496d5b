import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Feed } from 'feed';
import { loadConfig } from '../config.js';
import { lastChanged, type Article } from '../content/article.js';
import { loadArticles } from '../content/load-articles.js';
import { buildFeeds } from '../feed/build-feeds.js';
import { planFeedPages } from '../feed/feed-pages.js';
import type { FeedSite } from '../feed/feed-site.js';
import { MANIFEST_PATH } from '../output/build-manifest.js';
import { FEED_FORMATS, absoluteUrl, archiveFeedPath, articlePageHref, articlePagePath, currentFeedPath, INDEX_PATH } from '../output/site-paths.js';
import { createPublication, type BenchPublication } from './bench-publication.js';
import { failedFigure, figure, type Figure } from './bench-report.js';
import { generateRecord, writeRecords } from './generate-articles.js';
import { expectSuccess, median, timed } from './measure.js';

/** Paragraphs of each generated record: about 2.5 KB of Markdown, in three sections. */
const PARAGRAPHS = 7;
/** The newest generated article; the others follow an hour apart back in time. */
const NEWEST = new Date('2025-07-24T03:30:00Z');

/** SHA-256 of every file under a folder by relative path (the build manifest left out: it is the build's notes). */
function hashTree(root: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(root, path.join(entry.parentPath, entry.name));
    if (relative === MANIFEST_PATH) continue;
    hashes.set(relative, createHash('sha256').update(readFileSync(path.join(root, relative))).digest('hex'));
  }
  return hashes;
}

async function build(publication: BenchPublication): Promise<number> {
  return expectSuccess('briefing build', await publication.run(['build', '--json'])).ms;
}

/**
 * Full build, then an edit of one article in the middle of the archive and an incremental rebuild:
 * its time against the full build's, which files changed (only the article's page, the feeds, the
 * home page and the archive pages that hold the article may), and whether the result is byte for
 * byte what a fresh full build of the edited content writes.
 */
async function incrementalFigures(root: string, contentDir: string, count: number, log: (line: string) => void): Promise<Figure[]> {
  const publication = createPublication(path.join(root, 'build'), contentDir);
  log(`  briefing build, ${count} articles, full`);
  const fullMs = await build(publication);
  const before = hashTree(publication.outputDir);

  const index = Math.ceil(count / 2);
  const published = new Date(NEWEST.getTime() - (index - 1) * 60 * 60_000);
  const edited = generateRecord(index, published, { paragraphs: PARAGRAPHS, revision: 1 });
  writeFileSync(path.join(contentDir, edited.name), edited.text);
  log('  briefing build after one article changed');
  const incrementalMs = await build(publication);
  const after = hashTree(publication.outputDir);

  const id = edited.name.slice(0, -'.md'.length);
  const pageUrl = articlePageHref(id);
  const mayChange = new Set<string>([articlePagePath(id), INDEX_PATH, ...FEED_FORMATS.map(currentFeedPath)]);
  for (const relative of after.keys()) {
    if (relative.startsWith('archive/') && readFileSync(path.join(publication.outputDir, relative), 'utf8').includes(pageUrl)) mayChange.add(relative);
  }
  const changed = [...after.keys()].filter((relative) => before.get(relative) !== after.get(relative));
  const unexpected = changed.filter((relative) => !mayChange.has(relative)).concat([...before.keys()].filter((relative) => !after.has(relative)));

  log('  briefing build of the edited content from scratch, to compare');
  const fresh = createPublication(path.join(root, 'build-fresh'), contentDir);
  await build(fresh);
  const reference = hashTree(fresh.outputDir);
  const differing = [...new Set([...reference.keys(), ...after.keys()])].filter((relative) => reference.get(relative) !== after.get(relative));

  return [
    figure({ id: 'build.full', name: `briefing build, ${count} articles, full`, value: fullMs / 1000, unit: 's', goal: { info: true }, detail: { files: after.size } }),
    figure({
      id: 'build.incremental',
      name: 'incremental rebuild after one edit ÷ full build',
      value: incrementalMs / fullMs,
      unit: '×',
      goal: { atMost: 0.1 },
      detail: { incrementalMs, fullMs },
    }),
    figure({
      id: 'build.unchangedIdentical',
      name: 'rebuild leaves every unaffected file byte-identical',
      value: unexpected.length === 0 && changed.includes(articlePagePath(id)) ? 1 : 0,
      unit: 'yes/no',
      goal: { equals: true },
      detail: { changed: changed.length, allowedToChange: mayChange.size, unexpected: unexpected.length, ...(unexpected[0] === undefined ? {} : { first: unexpected[0] }) },
    }),
    figure({
      id: 'build.matchesFullBuild',
      name: 'rebuild output = fresh full build, byte for byte',
      value: differing.length === 0 ? 1 : 0,
      unit: 'yes/no',
      goal: { equals: true },
      detail: { files: reference.size, differing: differing.length, ...(differing[0] === undefined ? {} : { first: differing[0] }) },
    }),
  ];
}

/**
 * The bare `feed` package writing the same documents: one Feed per page with the same items
 * (title, link, dates, summary, sanitised body, topics, author), serialised as RSS, Atom and JSON.
 */
function bareFeeds(articles: readonly Article[], site: FeedSite): number {
  let bytes = 0;
  for (const page of planFeedPages(articles, site.feed)) {
    const self = (format: (typeof FEED_FORMATS)[number]): string =>
      absoluteUrl(site.siteUrl, page.kind === 'current' ? currentFeedPath(format) : archiveFeedPath(format, page.number));
    const author = { name: site.author.name, ...(site.author.email === undefined ? {} : { email: site.author.email }) };
    const feed = new Feed({
      id: absoluteUrl(site.siteUrl, currentFeedPath('atom')),
      title: site.title,
      description: site.description,
      link: site.siteUrl,
      language: site.language,
      feedLinks: { rss: self('rss'), atom: self('atom'), json: self('json') },
      updated: page.articles.reduce((latest, article) => (lastChanged(article) > latest ? lastChanged(article) : latest), new Date(0)),
      generator: 'bench',
      copyright: '',
      author,
    });
    for (const article of page.articles) {
      const url = absoluteUrl(site.siteUrl, articlePageHref(article.id));
      feed.addItem({
        title: article.title,
        id: url,
        link: article.url ?? url,
        date: lastChanged(article),
        published: article.published,
        description: article.summary,
        content: article.html,
        category: article.topics.map((topic) => ({ name: topic, term: topic })),
        author: [author],
      });
    }
    bytes += feed.rss2().length + feed.atom1().length + feed.json1().length;
  }
  return bytes;
}

/** Briefing's feeds (all pages, three formats) against the bare `feed` package, median of alternating runs. */
async function feedFigure(root: string, contentDir: string, runs: number, log: (line: string) => void): Promise<Figure> {
  const config = loadConfig(createPublication(path.join(root, 'feeds'), contentDir).configFile, {});
  const articles = await loadArticles({ dir: contentDir, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
  log(`  feeds of ${articles.length} articles: Briefing's and the bare feed package's, ${runs} runs each`);
  // One run each first, so both are compiled before the timing starts.
  buildFeeds(articles, config);
  bareFeeds(articles, config);
  const ours: number[] = [];
  const bare: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    ours.push((await timed(() => buildFeeds(articles, config))).ms);
    bare.push((await timed(() => bareFeeds(articles, config))).ms);
  }
  const pages = planFeedPages(articles, config.feed).length;
  return figure({
    id: 'build.feedsVsFeedPackage',
    name: `feeds (${pages} pages × 3 formats) ÷ bare feed package`,
    value: median(ours) / median(bare),
    unit: '×',
    goal: { atMost: 1.5 },
    detail: { oursMs: median(ours), feedPackageMs: median(bare) },
  });
}

/** The build figures: full and incremental `briefing build` of `count` generated articles, and the feeds' cost. */
export async function buildFigures(root: string, options: { articles: number; feedRuns: number }, log: (line: string) => void): Promise<Figure[]> {
  const contentDir = path.join(root, 'build-content');
  writeRecords(contentDir, options.articles, { newest: NEWEST, spacingMinutes: 60, paragraphs: PARAGRAPHS });
  const figures: Figure[] = [];
  try {
    figures.push(...(await incrementalFigures(root, contentDir, options.articles, log)));
  } catch (error) {
    figures.push(failedFigure('build.incremental', 'incremental rebuild after one edit ÷ full build', error));
  }
  try {
    figures.push(await feedFigure(root, contentDir, options.feedRuns, log));
  } catch (error) {
    figures.push(failedFigure('build.feedsVsFeedPackage', 'feeds ÷ bare feed package', error));
  }
  return figures;
}
