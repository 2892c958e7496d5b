import { createHash } from 'node:crypto';
import type { Article } from '../content/article.js';
import { renderFeedPage } from '../feed/build-feeds.js';
import { compareNewestFirst, feedPagePath, planFeedPages, type FeedPage } from '../feed/feed-pages.js';
import type { FeedSite } from '../feed/feed-site.js';
import type { BuildManifest } from './build-manifest.js';
import { FEED_FORMATS, INDEX_PATH, STYLESHEET_PATH, articlePagePath } from './site-paths.js';
import { createSitePages, type PageSite } from './site-pages.js';
import type { SiteTemplates } from './site-templates.js';

/** Everything a site build is made from. */
export interface SiteBuildInput {
  articles: readonly Article[];
  site: FeedSite & PageSite;
  templates: SiteTemplates;
  /** Stands for all that shapes the output besides the articles (config, templates, program version). */
  buildKey: string;
  /** The manifest of the last build, if there is one. */
  previous: BuildManifest | undefined;
  /** Paths (relative to output/) that exist now: a file deleted by hand is made again. */
  existing: ReadonlySet<string>;
}

/** Renders some outputs: one article page, or one feed page in its three formats. */
export interface RenderJob {
  paths: string[];
  render(): Map<string, string>;
}

/** What a build has to do. */
export interface SiteBuildPlan {
  /**
   * Rendering to do, in batches to be written one after the other: style sheet and article pages,
   * archive feeds, subscription feeds, home page. So a feed or page never links to a file not yet
   * written. Jobs render when asked, so a build can write as it goes instead of holding every page.
   */
  batches: RenderJob[][];
  /** Files of the last build this one no longer makes (a removed article, a vanished archive page). */
  stale: string[];
  manifest: BuildManifest;
  /**
   * The manifest to keep while the build runs: the last build's entries for the files this one leaves
   * alone. Should the build stop halfway, no half-updated file is ever taken for up to date.
   */
  interim: BuildManifest;
  /** Files to be rendered, and files whose inputs did not change and are neither rendered nor written. */
  rendered: number;
  reused: number;
}

interface Output {
  key: string;
  batch: 0 | 1 | 2 | 3;
  job: RenderJob;
}

/** A short, stable digest of the build key and the parts an output is made from. */
function keyOf(buildKey: string, parts: unknown): string {
  return createHash('sha256').update(buildKey).update('\0').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
}

function articleStamps(articles: readonly Article[]): Array<[string, string]> {
  return articles.map((article) => [article.id, article.contentHash]);
}

function single(path: string, render: () => string): RenderJob {
  return { paths: [path], render: () => new Map([[path, render()]]) };
}

function feedPageOutput(page: FeedPage, input: SiteBuildInput): Output {
  return {
    key: keyOf(input.buildKey, ['feed', page.kind, page.number, page.prevArchive ?? 0, page.nextArchive ?? 0, articleStamps(page.articles)]),
    batch: page.kind === 'archive' ? 1 : 2,
    job: { paths: FEED_FORMATS.map((format) => feedPagePath(format, page)), render: () => renderFeedPage(page, input.site) },
  };
}

/**
 * Decides what a build renders: every output has a key made from exactly what it depends on (an
 * article page from its article's content hash, a feed page from its articles and links, the home page
 * from all articles), and is rendered only when its key differs from the last build's or its file is
 * gone. Rendering is deterministic, so the result is byte-identical to a full build.
 */
export function planSiteBuild(input: SiteBuildInput): SiteBuildPlan {
  const newestFirst = [...input.articles].sort(compareNewestFirst);
  const pages = createSitePages(input.site, input.templates);
  const outputs: Output[] = [
    { key: keyOf(input.buildKey, ['style', input.templates.stylesheet]), batch: 0, job: single(STYLESHEET_PATH, () => input.templates.stylesheet) },
    ...newestFirst.map((article): Output => ({
      key: keyOf(input.buildKey, ['article', article.id, article.contentHash]),
      batch: 0,
      job: single(articlePagePath(article.id), () => pages.articlePage(article)),
    })),
    ...planFeedPages(newestFirst, input.site.feed).map((page) => feedPageOutput(page, input)),
    { key: keyOf(input.buildKey, ['index', articleStamps(newestFirst)]), batch: 3, job: single(INDEX_PATH, () => pages.indexPage(newestFirst)) },
  ];

  const batches: RenderJob[][] = [[], [], [], []];
  const manifest: BuildManifest = { version: 1, outputs: {} };
  let rendered = 0;
  for (const output of outputs) {
    for (const path of output.job.paths) manifest.outputs[path] = output.key;
    const upToDate = output.job.paths.every((path) => input.previous?.outputs[path] === output.key && input.existing.has(path));
    if (!upToDate) {
      batches[output.batch]?.push(output.job);
      rendered += output.job.paths.length;
    }
  }
  const stale = Object.keys(input.previous?.outputs ?? {}).filter((path) => !Object.hasOwn(manifest.outputs, path));
  const redone = new Set(batches.flat().flatMap((job) => job.paths));
  const interim: BuildManifest = {
    version: 1,
    outputs: Object.fromEntries(Object.entries(input.previous?.outputs ?? {}).filter(([path]) => !redone.has(path) && Object.hasOwn(manifest.outputs, path))),
  };
  return { batches, stale, manifest, interim, rendered, reused: Object.keys(manifest.outputs).length - rendered };
}
