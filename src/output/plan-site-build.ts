import { hash } from 'node:crypto';
import type { SiteArticle } from '../content/article.js';
import type { IndexedArticle } from '../content/indexed-article.js';
import { renderFeedPage } from '../feed/build-feeds.js';
import { compareNewestFirst, feedPagePath, planFeedPages, type FeedPage } from '../feed/feed-pages.js';
import type { FeedSite } from '../feed/feed-site.js';
import type { BuildManifest, PlannedManifest } from './build-manifest.js';
import { OutputPathMap } from './output-path-map.js';
import { FEED_FORMATS, INDEX_PATH, STYLESHEET_PATH, archivePagePath, articlePagePath } from './site-paths.js';
import { createSitePages, type PageSite, type SitePages } from './site-pages.js';
import type { SiteTemplates } from './site-templates.js';

/** An article as a plan knows it: what places it and keys its pages, and what they show of it when read. */
type SiteEntry = IndexedArticle<SiteArticle>;

/** Everything a site build is made from. */
export interface SiteBuildInput {
  /** The articles by what places them and keys their pages; only those of pages to render are read in full. */
  articles: readonly SiteEntry[];
  site: FeedSite & PageSite;
  templates: SiteTemplates;
  /** Stands for all that shapes the output besides the articles (config, templates, program version). */
  buildKey: string;
  /** The manifest of the last build, if there is one. */
  previous: BuildManifest | undefined;
  /** Paths (relative to output/) that exist now: a file deleted by hand is made again. */
  existing: OutputPathMap<true>;
}

/** Renders some outputs: one article page, one list page, or one feed page in its three formats (as UTF-8 bytes). */
export interface RenderJob {
  paths: string[];
  render(): Map<string, string | Uint8Array>;
}

/** What a build has to do. */
export interface SiteBuildPlan {
  /**
   * Rendering to do, in batches to be written one after the other: style sheet, article pages,
   * archive feeds and pages, subscription feeds, home page. So a feed or page never links to a file
   * not yet written, whichever thread renders it (see shared-render.ts). Jobs render when asked, so
   * a build can write as it goes instead of holding every page.
   */
  batches: Array<Iterable<RenderJob>>;
  /** Files of the last build this one no longer makes (a removed article, a vanished archive page). */
  stale: string[];
  manifest: PlannedManifest;
  /** The files to render, listed as the build's pending list (see PENDING_PATH) before any is written. */
  pending(): Iterable<string>;
  /** Files to be rendered, and files whose inputs did not change and are neither rendered nor written. */
  rendered: number;
  reused: number;
}

/** One output as planned: its key, its batch, and the job that renders it, made only if it is out of date. */
interface Output {
  paths: string[];
  key: string;
  batch: 1 | 2 | 3;
  job(): RenderJob;
}

/** A file of the plan other than an article page, with its key and whether it is up to date. */
interface PlannedFile {
  path: string;
  key: string;
  upToDate: boolean;
}

/**
 * An article page to render. A plan holds one per article to render (a hundred thousand in a full
 * build of as many), so it is one small object whose methods are shared, rather than a closure, its
 * context, a path array and a job object each: the plan then grows by a few dozen bytes an article.
 */
class ArticlePageJob implements RenderJob {
  constructor(
    private readonly entry: SiteEntry,
    private readonly pages: SitePages,
  ) {}

  get paths(): string[] {
    return [articlePagePath(this.entry.id)];
  }

  render(): Map<string, string | Uint8Array> {
    return new Map([[articlePagePath(this.entry.id), this.pages.articlePage(this.entry.article())]]);
  }
}

/** A short, stable digest of the parts an output is made from (the build key stands beside it in the manifest). */
function keyOf(parts: unknown): string {
  // The one-shot digest: ten thousand articles make five hundred feed pages, each with its key.
  return hash('sha256', JSON.stringify(parts), 'base64url').slice(0, 32);
}

function singleJob(path: string, render: () => string): RenderJob {
  return { paths: [path], render: () => new Map([[path, render()]]) };
}

function single(path: string, key: string, batch: Output['batch'], render: () => string): Output {
  return { paths: [path], key, batch, job: () => singleJob(path, render) };
}

/** The key of an article page: its content hash is a digest of the record already (its first 128 bits are plenty to tell edits apart). */
function articlePageKey(article: SiteEntry): string {
  return article.contentHash.slice(0, 32);
}

/**
 * The article pages of a plan, newest first, with a flag for each to render: what a plan keeps per
 * article is its index entry and one byte, never a path, a key or a job (they are made as they are
 * needed, the jobs one at a time as the build writes them).
 */
class ArticlePages implements Iterable<RenderJob> {
  constructor(
    readonly articles: readonly SiteEntry[],
    readonly toRender: Uint8Array,
    private readonly pages: SitePages,
  ) {}

  *[Symbol.iterator](): Iterator<RenderJob> {
    for (let index = 0; index < this.articles.length; index += 1) {
      if (this.toRender[index] === 1) yield new ArticlePageJob(this.articles[index] as SiteEntry, this.pages);
    }
  }

  /** Path and key of each article page, newest first. */
  *outputs(): Iterable<readonly [string, string]> {
    for (const article of this.articles) yield [articlePagePath(article.id), articlePageKey(article)];
  }

  /** Key of each article page, by article id. */
  keys(into: OutputPathMap<string>): void {
    for (const article of this.articles) into.articlePages.set(article.id, articlePageKey(article));
  }

  /** Path of each article page to render. */
  *pending(): Iterable<string> {
    for (let index = 0; index < this.articles.length; index += 1) {
      if (this.toRender[index] === 1) yield articlePagePath((this.articles[index] as SiteEntry).id);
    }
  }
}

/** A manifest listing the files before the article pages, the article pages, then the files after them. */
function plannedManifest(buildKey: string, before: readonly PlannedFile[], articles: ArticlePages, after: readonly PlannedFile[]): PlannedManifest {
  const files = function* (list: readonly PlannedFile[]): Iterable<readonly [string, string]> {
    for (const file of list) yield [file.path, file.key];
  };
  return {
    buildKey,
    *outputs() {
      yield* files(before);
      yield* articles.outputs();
      yield* files(after);
    },
    keys() {
      const keys = new OutputPathMap<string>();
      articles.keys(keys);
      for (const file of [...before, ...after]) keys.set(file.path, file.key);
      return keys;
    },
  };
}

/** The paths of the files to render, in the manifest's order. */
function* pendingPaths(before: readonly PlannedFile[], articles: ArticlePages, after: readonly PlannedFile[]): Iterable<string> {
  for (const file of before) if (!file.upToDate) yield file.path;
  yield* articles.pending();
  for (const file of after) if (!file.upToDate) yield file.path;
}

/**
 * The key of a feed page and of its list page twin, which show the same: its articles (which ones,
 * in which order, with which bytes), which page it is, and its neighbours.
 */
function pageKey(page: FeedPage<SiteEntry>): string {
  const stamps = page.articles.map((article) => `${article.id} ${article.contentHash}`).join('\n');
  return keyOf([page.kind, page.number, page.prevArchive ?? 0, page.nextArchive ?? 0, stamps]);
}

/** Gives a planned page with its articles read, to be rendered. */
type PageReader = (page: FeedPage<SiteEntry>) => FeedPage;

/**
 * Reads a planned page's articles. A feed page and its list page twin are rendered one after the
 * other (in the same batch, the feed first; the subscription feed just before the home page), so the
 * last page read is kept and the twin does not read its articles again.
 */
function pageReader(): PageReader {
  let last: { page: FeedPage<SiteEntry>; read: FeedPage } | undefined;
  return (page) => {
    if (last?.page !== page) last = { page, read: { ...page, articles: page.articles.map((entry) => entry.article()) } };
    return last.read;
  };
}

function feedPageOutput(page: FeedPage<SiteEntry>, key: string, site: FeedSite, read: PageReader): Output {
  return {
    paths: FEED_FORMATS.map((format) => feedPagePath(format, page)),
    key,
    batch: page.kind === 'archive' ? 1 : 2,
    job: () => ({ paths: FEED_FORMATS.map((format) => feedPagePath(format, page)), render: () => renderFeedPage(read(page), site) }),
  };
}

/**
 * The HTML twin of a feed page: the home page for the subscription feed, an archive page for an
 * archive feed page. An archive page lists every archive page, so their number is part of its key.
 */
function listPageOutput(page: FeedPage<SiteEntry>, key: string, pages: SitePages, pageCount: number, read: PageReader): Output {
  const archived = page.kind === 'archive';
  const path = archived ? archivePagePath(page.number) : INDEX_PATH;
  // The home page goes last: it links to the newest archive page.
  return single(path, archived ? keyOf([key, pageCount]) : key, archived ? 1 : 3, () => pages.listPage(read(page), pageCount));
}

/**
 * Decides what a build renders: every output has a key made from exactly what it depends on (an
 * article page from its article's content hash, a feed page and its list page twin from their articles
 * and links), and is rendered only when its key differs from the last build's or its file is
 * gone. The build key (config, templates, program) stands once in the manifest: another one renders
 * everything. Rendering is deterministic, so the result is byte-identical to a full build.
 */
export function planSiteBuild(input: SiteBuildInput): SiteBuildPlan {
  const newestFirst = [...input.articles].sort(compareNewestFirst);
  const pages = createSitePages(input.site, input.templates);
  const previous = input.previous?.buildKey === input.buildKey ? input.previous.outputs : new OutputPathMap<string>();
  const { existing } = input;
  const upToDate = (path: string, key: string): boolean => previous.get(path) === key && existing.has(path);
  // Indexed by Output['batch'] (1 archive pages, 2 subscription feeds, 3 home page); the style sheet and article pages go before them.
  const batches: RenderJob[][] = [[], [], [], []];
  const before: PlannedFile[] = [];
  const after: PlannedFile[] = [];
  let rendered = 0;

  const stylesheet: PlannedFile = { path: STYLESHEET_PATH, key: keyOf(['style', input.templates.stylesheet]), upToDate: false };
  stylesheet.upToDate = upToDate(stylesheet.path, stylesheet.key);
  before.push(stylesheet);
  const stylesheetJobs = stylesheet.upToDate ? [] : [singleJob(STYLESHEET_PATH, () => input.templates.stylesheet)];
  rendered += stylesheetJobs.length;

  const toRender = new Uint8Array(newestFirst.length);
  // Article pages of the last build (of the same build key) that this one makes again.
  let madeAgain = 0;
  newestFirst.forEach((article, index) => {
    const key = previous.articlePages.get(article.id);
    if (key !== undefined) madeAgain += 1;
    if (key === articlePageKey(article) && existing.articlePages.has(article.id)) return;
    toRender[index] = 1;
    rendered += 1;
  });
  const articlePages = new ArticlePages(newestFirst, toRender, pages);

  const plan = (output: Output): void => {
    const current = output.paths.every((path) => upToDate(path, output.key));
    for (const path of output.paths) after.push({ path, key: output.key, upToDate: current });
    if (!current) {
      batches[output.batch]?.push(output.job());
      rendered += output.paths.length;
    }
  };
  const feedPages = planFeedPages(newestFirst, input.site.feed);
  const archivePages = feedPages.filter((page) => page.kind === 'archive').length;
  const read = pageReader();
  for (const page of feedPages) {
    const key = pageKey(page);
    plan(feedPageOutput(page, key, input.site, read));
    plan(listPageOutput(page, key, pages, archivePages, read));
  }

  // Whatever its build key, the last build's files that this one does not make are gone.
  const stale: string[] = [];
  const last = input.previous?.outputs;
  if (last !== undefined) {
    const others = new Set([...before, ...after].map((file) => file.path));
    for (const path of last.others.keys()) if (!others.has(path)) stale.push(path);
    // When every last article page was found above (a rebuild that removed no article), none is stale.
    if (previous !== last || madeAgain < last.articlePages.size) {
      const ids = new Set(newestFirst.map((article) => article.id));
      for (const id of last.articlePages.keys()) if (!ids.has(id)) stale.push(articlePagePath(id));
    }
  }
  const total = before.length + newestFirst.length + after.length;
  return {
    batches: [stylesheetJobs, articlePages, ...batches.slice(1)],
    stale,
    manifest: plannedManifest(input.buildKey, before, articlePages, after),
    pending: () => pendingPaths(before, articlePages, after),
    rendered,
    reused: total - rendered,
  };
}
