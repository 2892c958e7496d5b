import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Feed } from 'feed';
import { loadConfig } from '../config.js';
import { lastChanged, type Article } from '../content/article.js';
import { loadArticles } from '../content/load-articles.js';
import { buildFeeds } from '../feed/build-feeds.js';
import { planFeedPages } from '../feed/feed-pages.js';
import type { FeedSite } from '../feed/feed-site.js';
import { MANIFEST_PATH } from '../output/build-manifest.js';
import { FEED_FORMATS, absoluteUrl, archiveFeedPath, articlePageHref, articlePagePath, currentFeedPath, INDEX_PATH } from '../output/site-paths.js';
import { cleanEnvironment, cliPath, createPublication, type BenchPublication } from './bench-publication.js';
import { failedFigure, figure, type Figure, type Goal } from './bench-report.js';
import { buildWithEleventy, runWithCosts, type RunCost } from './eleventy-peer.js';
import { generateRecord, writeRecords } from './generate-articles.js';
import { median, timed } from './measure.js';

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

async function build(publication: BenchPublication): Promise<RunCost> {
  return runWithCosts('briefing build', process.execPath, [cliPath(), 'build', '--json', '--config', publication.configFile], publication.root);
}

/** The median of each cost over some runs. */
function medianCost(runs: readonly RunCost[]): RunCost {
  return {
    ms: median(runs.map((run) => run.ms)),
    userSeconds: median(runs.map((run) => run.userSeconds)),
    systemSeconds: median(runs.map((run) => run.systemSeconds)),
    peakRssKb: median(runs.map((run) => run.peakRssKb)),
  };
}

function costDetail(prefix: string, cost: RunCost): Figure['detail'] {
  return {
    [`${prefix}WallS`]: Math.round(cost.ms) / 1000,
    [`${prefix}UserS`]: cost.userSeconds,
    [`${prefix}SystemS`]: cost.systemSeconds,
    [`${prefix}PeakRssMb`]: Math.round(cost.peakRssKb / 102.4) / 10,
  };
}

/**
 * Full `briefing build` against Eleventy (bench/eleventy/) on the same records: one run of each to
 * warm the page cache and the compile caches, then `runs` of each alternating, medians. Every run of
 * either writes into a new folder (a fresh publication: output and parse cache), never into one just
 * emptied: on a file system that discards freed blocks (ext4 mounted with `discard`, as here) the run
 * after a large deletion pays for it in its own file creations (12,000 files made in 0.6 s in a new
 * folder, 5.5 s in one deleted and made again). The folders are listed in `leftovers`, for the caller
 * to remove when the build figures are done. Returns the last publication, fully built.
 */
async function eleventyFigures(
  root: string,
  contentDir: string,
  runs: number,
  log: (line: string) => void,
  leftovers: string[],
): Promise<{ figures: Figure[]; full: RunCost; publication: BenchPublication }> {
  const count = readdirSync(contentDir).length;
  log(`  briefing build and eleventy, ${count} articles, full: a warm-up and ${runs} alternating runs each, each into a new folder`);
  let made = 0;
  let publication: BenchPublication | undefined;
  let eleventyOutput = '';
  const ourRun = async (): Promise<RunCost> => {
    publication = createPublication(path.join(root, `build-${(made += 1)}`), contentDir);
    leftovers.push(publication.root);
    return build(publication);
  };
  const theirRun = async (): Promise<RunCost> => {
    eleventyOutput = path.join(root, `eleventy-output-${(made += 1)}`);
    leftovers.push(eleventyOutput);
    return buildWithEleventy(contentDir, eleventyOutput);
  };
  await ourRun();
  await theirRun();
  const ours: RunCost[] = [];
  const theirs: RunCost[] = [];
  for (let run = 0; run < runs; run += 1) {
    theirs.push(await theirRun());
    ours.push(await ourRun());
  }
  const eleventyFiles = readdirSync(eleventyOutput, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
  const [full, peer] = [medianCost(ours), medianCost(theirs)];
  const detail = { ...costDetail('briefing', full), ...costDetail('eleventy', peer), eleventyFiles, runs };
  const ratio = (id: string, name: string, value: number, goal: Goal): Figure => figure({ id, name, value, unit: '×', goal, detail: id === 'build.vsEleventyWall' ? detail : {} });
  return {
    full,
    publication: publication as BenchPublication,
    figures: [
      figure({ id: 'build.full', name: `briefing build, ${count} articles, full`, value: full.ms / 1000, unit: 's', goal: { info: true }, detail: costDetail('', full) }),
      ratio('build.vsEleventyWall', 'full build wall time ÷ Eleventy', full.ms / peer.ms, { atMost: 0.5 }),
      ratio('build.vsEleventyRss', 'full build peak RSS ÷ Eleventy', full.peakRssKb / peer.peakRssKb, { atMost: 0.5 }),
      ratio('build.vsEleventyUser', 'full build user CPU ÷ Eleventy', full.userSeconds / peer.userSeconds, { info: true }),
      ratio('build.vsEleventySystem', 'full build system CPU ÷ Eleventy', full.systemSeconds / peer.systemSeconds, { info: true }),
    ],
  };
}

/** Edits timed while `briefing build --watch` runs; the figure is their median. */
const WATCH_EDITS = 5;
/** How long the bench waits for a build of the watch before giving up on it. */
const WATCH_TIMEOUT_MS = 120_000;

/**
 * `briefing build --watch` on a built publication: `edits` edits of one record (`edit(n)` writes the
 * n-th), each timed from just before the write to the line of the build that followed, as someone
 * who saves a record sees it (the watch's short wait for the rest of a save's events included).
 * Returns those times and each build's own time, as it reports it.
 */
async function watchRebuilds(publication: BenchPublication, edits: number, edit: (n: number) => void): Promise<{ editToBuiltMs: number[]; buildMs: number[] }> {
  const child = spawn(process.execPath, [cliPath(), 'build', '--watch', '--json', '--config', publication.configFile], {
    cwd: publication.root,
    env: cleanEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString('utf8')}`.slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  /** The next build that did something (a save may also bring one with nothing to do). */
  const nextBuild = async (): Promise<{ ms: number; rendered: number }> => {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no build within ${WATCH_TIMEOUT_MS / 1000} s`)), WATCH_TIMEOUT_MS)));
      const ended = exited.then((code) => Promise.reject(new Error(`briefing build --watch ended (exit ${code}): ${stderr.trim()}`)));
      const line = await Promise.race([lines.next(), timeout, ended]).finally(() => clearTimeout(timer));
      if (line.done === true) throw new Error(`briefing build --watch closed its output: ${stderr.trim()}`);
      const build = JSON.parse(line.value) as { ms: number; rendered?: number; error?: string };
      if (build.error !== undefined) throw new Error(`briefing build --watch: ${build.error}`);
      if ((build.rendered ?? 0) > 0) return { ms: build.ms, rendered: build.rendered as number };
    }
  };
  try {
    // The first build finds the site up to date but for the edit the cold rebuild left: nothing, or that.
    const first = JSON.parse((await lines.next()).value ?? '{}') as { error?: string };
    if (first.error !== undefined) throw new Error(`briefing build --watch: ${first.error}`);
    const editToBuiltMs: number[] = [];
    const buildMs: number[] = [];
    for (let n = 0; n < edits; n += 1) {
      // A moment between edits, as between saves: any trailing build of the last one is done.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = performance.now();
      edit(n);
      const build = await nextBuild();
      editToBuiltMs.push(performance.now() - started);
      buildMs.push(build.ms);
    }
    return { editToBuiltMs, buildMs };
  } finally {
    child.kill('SIGINT');
    const code = await exited;
    if (code !== 0 && code !== null) throw new Error(`briefing build --watch exited ${code} on SIGINT: ${stderr.trim()}`);
  }
}

/**
 * An edit of one article in the middle of the archive and a rebuild of the publication (fully
 * built), two ways: a new `briefing build` process (for information), then `briefing build --watch`
 * with that article edited again and again (the figure, against the full build's median). Also which
 * files changed (only the article's page, the feeds, the home page and the archive pages that hold
 * the article may), and whether the result is byte for byte what a fresh full build of the edited
 * content writes.
 */
async function incrementalFigures(root: string, publication: BenchPublication, full: RunCost, log: (line: string) => void): Promise<Figure[]> {
  const contentDir = publication.contentDir;
  const count = readdirSync(contentDir).length;
  const before = hashTree(publication.outputDir);

  const index = Math.ceil(count / 2);
  const published = new Date(NEWEST.getTime() - (index - 1) * 60 * 60_000);
  const edit = (revision: number): string => {
    const edited = generateRecord(index, published, { paragraphs: PARAGRAPHS, revision });
    writeFileSync(path.join(contentDir, edited.name), edited.text);
    return edited.name;
  };
  const name = edit(1);
  log('  briefing build after one article changed');
  const coldMs = (await build(publication)).ms;
  log(`  briefing build --watch, the same article changed ${WATCH_EDITS} times`);
  // Revisions 2 and 3 by turns: each edit changes the record.
  const watched = await watchRebuilds(publication, WATCH_EDITS, (n) => edit(2 + (n % 2)));
  const incrementalMs = median(watched.editToBuiltMs);
  const after = hashTree(publication.outputDir);

  const id = name.slice(0, -'.md'.length);
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
  rmSync(fresh.root, { recursive: true, force: true });
  const differing = [...new Set([...reference.keys(), ...after.keys()])].filter((relative) => reference.get(relative) !== after.get(relative));

  return [
    figure({
      id: 'build.incremental',
      name: 'rebuild after one edit (build --watch, edit to written) ÷ full build',
      value: incrementalMs / full.ms,
      unit: '×',
      goal: { atMost: 0.02 },
      detail: {
        incrementalMs: Math.round(incrementalMs),
        buildMs: Math.round(median(watched.buildMs)),
        edits: WATCH_EDITS,
        fullMs: Math.round(full.ms),
      },
    }),
    figure({
      id: 'build.incrementalCold',
      name: 'rebuild after one edit, a new briefing build process, ÷ full build',
      value: coldMs / full.ms,
      unit: '×',
      goal: { info: true },
      detail: { incrementalMs: Math.round(coldMs), fullMs: Math.round(full.ms) },
    }),
    figure({
      id: 'build.unchangedIdentical',
      name: 'rebuilds leave every unaffected file byte-identical',
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
 * Peak RSS of a full build of ten times the articles against the median of the smaller full builds:
 * memory flat in the number of articles. The records and output (about 1 GB at 100,000 articles)
 * are removed right after.
 */
async function memoryFigure(root: string, count: number, small: RunCost, log: (line: string) => void): Promise<Figure> {
  const contentDir = path.join(root, 'build-content-large');
  log(`  briefing build, ${count} articles, full (the memory figure; minutes at 100,000)`);
  writeRecords(contentDir, count, { newest: NEWEST, spacingMinutes: 60, paragraphs: PARAGRAPHS });
  const publication = createPublication(path.join(root, 'build-large'), contentDir);
  try {
    const large = await build(publication);
    return figure({
      id: 'build.memoryFlat',
      name: `full build peak RSS, ${count} ÷ ${count / 10} articles`,
      value: large.peakRssKb / small.peakRssKb,
      unit: '×',
      goal: { atMost: 1.3 },
      detail: { ...costDetail('large', large), smallPeakRssMb: Math.round(small.peakRssKb / 102.4) / 10 },
    });
  } finally {
    rmSync(contentDir, { recursive: true, force: true });
    rmSync(publication.root, { recursive: true, force: true });
  }
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
    // Encoded, as a file needs them (Briefing's feeds come out as bytes).
    bytes += Buffer.byteLength(feed.rss2()) + Buffer.byteLength(feed.atom1()) + Buffer.byteLength(feed.json1());
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

/**
 * The build figures: `briefing build` of `articles` generated records against Eleventy (full build,
 * alternating runs: 3 at 10,000 articles, 1 for a quick run), the incremental rebuild, the memory of
 * a build of ten times as many, and the feeds' cost.
 */
export async function buildFigures(root: string, options: { articles: number; feedRuns: number }, log: (line: string) => void): Promise<Figure[]> {
  const contentDir = path.join(root, 'build-content');
  writeRecords(contentDir, options.articles, { newest: NEWEST, spacingMinutes: 60, paragraphs: PARAGRAPHS });
  const figures: Figure[] = [];
  const leftovers: string[] = [];
  try {
    let compared: Awaited<ReturnType<typeof eleventyFigures>> | undefined;
    try {
      compared = await eleventyFigures(root, contentDir, options.articles >= 10_000 ? 3 : 1, log, leftovers);
      figures.push(...compared.figures);
    } catch (error) {
      figures.push(failedFigure('build.vsEleventyWall', 'full build ÷ Eleventy', error));
    }
    if (compared !== undefined) {
      try {
        figures.push(...(await incrementalFigures(root, compared.publication, compared.full, log)));
      } catch (error) {
        figures.push(failedFigure('build.incremental', 'incremental rebuild after one edit ÷ full build', error));
      }
      try {
        figures.push(await memoryFigure(root, options.articles * 10, compared.full, log));
      } catch (error) {
        figures.push(failedFigure('build.memoryFlat', 'full build peak RSS, ten times the articles', error));
      }
    }
    try {
      figures.push(await feedFigure(root, contentDir, options.feedRuns, log));
    } catch (error) {
      figures.push(failedFigure('build.feedsVsFeedPackage', 'feeds ÷ bare feed package', error));
    }
  } finally {
    for (const folder of leftovers) rmSync(folder, { recursive: true, force: true });
  }
  return figures;
}
