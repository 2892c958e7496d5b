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

/** Renders some outputs: the style sheet, a feed page's articles' pages, its three formats and its list page, or the home page. */
export interface RenderJob {
  paths: string[];
  render(): Map<string, string | Uint8Array>;
}

/** What a build has to do. */
export interface SiteBuildPlan {
  /**
   * Rendering to do, in batches to be written one after the other: style sheet, archive pages (each
   * job an archive page's article pages, then its feeds and its HTML page), the newest articles'
   * pages with the subscription feeds, home page. So a feed or page never links to an article page
   * or to the home page before it is written, whichever thread renders it (see shared-render.ts).
   * Jobs render when asked, so a build can write as it goes instead of holding every page.
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

/** A file of the plan other than an article page, with its key and whether it is up to date. */
interface PlannedFile {
  path: string;
  key: string;
  upToDate: boolean;
}

/** A short, stable digest of the parts an output is made from (the build key stands beside it in the manifest). */
function keyOf(parts: unknown): string {
  // The one-shot digest: ten thousand articles make five hundred feed pages, each with its key.
  return hash('sha256', JSON.stringify(parts), 'base64url').slice(0, 32);
}

function singleJob(path: string, render: () => string): RenderJob {
  return { paths: [path], render: () => new Map([[path, render()]]) };
}

/** The key of an article page: its content hash is a digest of the record already (its first 128 bits are plenty to tell edits apart). */
function articlePageKey(article: SiteEntry): string {
  return article.contentHash.slice(0, 32);
}

/**
 * The article pages of a plan, newest first, with a flag for each to render: what a plan keeps per
 * article is its index entry and one byte, never a path, a key or a job (paths and keys are made as
 * they are needed; the pages are rendered by the jobs of the feed pages that hold their articles).
 */
class ArticlePages {
  constructor(
    readonly articles: readonly SiteEntry[],
    readonly toRender: Uint8Array,
  ) {}

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

/**
 * What one feed page's job renders: the pages of its articles that are out of date, then its feeds
 * in three formats and its HTML twin (an archive page) when they are. Its articles are read once, for
 * all of these (a feed entry, an article page and a list all show them), and only those it needs.
 */
interface PageGroup {
  page: FeedPage<SiteEntry>;
  /** The plan's article pages and where the page's articles start among them (they follow on from there); none for the home page, whose articles are the subscription feed's. */
  articlePages: { all: ArticlePages; offset: number } | undefined;
  /** The feeds and the list page twin, when out of date. */
  feeds: boolean;
  list: { path: string; pageCount: number } | undefined;
  site: FeedSite;
  pages: SitePages;
}

function pageGroupJob(group: PageGroup): RenderJob {
  const { page, articlePages, feeds, list } = group;
  const rendersArticle = (index: number): boolean => articlePages !== undefined && articlePages.all.toRender[articlePages.offset + index] === 1;
  const feedPaths = (): string[] => (feeds ? FEED_FORMATS.map((format) => feedPagePath(format, page)) : []);
  return {
    // Made when asked: a plan holds a job per feed page for the whole build.
    get paths() {
      return [...page.articles.flatMap((entry, index) => (rendersArticle(index) ? [articlePagePath(entry.id)] : [])), ...feedPaths(), ...(list === undefined ? [] : [list.path])];
    },
    render() {
      const whole = feeds || list !== undefined;
      const read = page.articles.map((entry, index) => (whole || rendersArticle(index) ? entry.article() : undefined));
      const files = new Map<string, string | Uint8Array>();
      // The article pages first: the feeds and the list link to them. Each encoded at once, so a job
      // holds its pages as bytes rather than as strings too while it renders the rest.
      read.forEach((article, index) => {
        if (article !== undefined && rendersArticle(index)) files.set(articlePagePath(article.id), Buffer.from(group.pages.articlePage(article), 'utf8'));
      });
      if (!whole) return files;
      const readPage: FeedPage = { ...page, articles: read as SiteArticle[] };
      if (feeds) for (const [path, bytes] of renderFeedPage(readPage, group.site)) files.set(path, bytes);
      if (list !== undefined) files.set(list.path, group.pages.listPage(readPage, list.pageCount));
      return files;
    },
  };
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
  // The archive pages' jobs, the subscription feed page's, and the home page's: each batch written before the next.
  const archive: RenderJob[] = [];
  const current: RenderJob[] = [];
  const home: RenderJob[] = [];
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
  const articlePages = new ArticlePages(newestFirst, toRender);

  /** Lists a page's files in the manifest; whether they are all up to date. */
  const planFiles = (paths: readonly string[], key: string): boolean => {
    const upToDateNow = paths.every((path) => upToDate(path, key));
    for (const path of paths) after.push({ path, key, upToDate: upToDateNow });
    if (!upToDateNow) rendered += paths.length;
    return upToDateNow;
  };
  const feedPages = planFeedPages(newestFirst, input.site.feed);
  const pageCount = feedPages.filter((page) => page.kind === 'archive').length;
  // The pages hold the articles in their order, the subscription feed first: each page's articles follow the last page's.
  let offset = 0;
  for (const page of feedPages) {
    page.articles.forEach((entry, index) => {
      if (newestFirst[offset + index] !== entry) throw new Error(`feed page ${page.number} does not hold the articles after the page before it`);
    });
    const key = pageKey(page);
    const feeds = !planFiles(FEED_FORMATS.map((format) => feedPagePath(format, page)), key);
    const archived = page.kind === 'archive';
    // An archive page lists every archive page, so their number is part of its key.
    const listPath = archived ? archivePagePath(page.number) : INDEX_PATH;
    const list = planFiles([listPath], archived ? keyOf([key, pageCount]) : key) ? undefined : { path: listPath, pageCount };
    const pagesToRender = toRender.subarray(offset, offset + page.articles.length).includes(1);
    const group = { page, articlePages: { all: articlePages, offset }, feeds, site: input.site, pages };
    if (archived) {
      if (pagesToRender || feeds || list !== undefined) archive.push(pageGroupJob({ ...group, list }));
    } else {
      if (pagesToRender || feeds) current.push(pageGroupJob({ ...group, list: undefined }));
      // The home page goes last, on its own: it links to the newest archive page.
      if (list !== undefined) home.push(pageGroupJob({ ...group, articlePages: undefined, feeds: false, list }));
    }
    offset += page.articles.length;
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
    batches: [stylesheetJobs, archive, current, home],
    stale,
    manifest: plannedManifest(input.buildKey, before, articlePages, after),
    pending: () => pendingPaths(before, articlePages, after),
    rendered,
    reused: total - rendered,
  };
}
