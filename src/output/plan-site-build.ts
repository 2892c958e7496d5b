import { createHash } from 'node:crypto';
import type { Article } from '../content/article.js';
import { renderFeedPage } from '../feed/build-feeds.js';
import { compareNewestFirst, feedPagePath, planFeedPages, type FeedPage } from '../feed/feed-pages.js';
import type { FeedSite } from '../feed/feed-site.js';
import type { BuildManifest } from './build-manifest.js';
import { FEED_FORMATS, INDEX_PATH, STYLESHEET_PATH, articlePagePath } from './site-paths.js';
import { renderArticlePage, renderIndexPage, type PageSite } from './site-pages.js';
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

/** What a build has to do. */
export interface SiteBuildPlan {
  /**
   * Files to write, in batches written one after the other: style sheet and article pages, archive
   * feeds, subscription feeds, home page. So a feed or page never links to a file not yet written.
   */
  batches: Array<Map<string, string>>;
  /** Files of the last build this one no longer makes (a removed article, a vanished archive page). */
  stale: string[];
  manifest: BuildManifest;
  /** Files rendered, and files whose inputs did not change and were neither rendered nor written. */
  rendered: number;
  reused: number;
}

interface Output {
  path: string;
  key: string;
  batch: 0 | 1 | 2 | 3;
  /** Renders this output (with its siblings, for a feed page in three formats). */
  render: () => Map<string, string>;
}

/** A short, stable digest of the build key and the parts an output is made from. */
function keyOf(buildKey: string, parts: unknown): string {
  return createHash('sha256').update(buildKey).update('\0').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);
}

function articleStamps(articles: readonly Article[]): Array<[string, string]> {
  return articles.map((article) => [article.id, article.contentHash]);
}

function feedPageOutputs(page: FeedPage, input: SiteBuildInput): Output[] {
  const key = keyOf(input.buildKey, ['feed', page.kind, page.number, page.prevArchive ?? 0, page.nextArchive ?? 0, articleStamps(page.articles)]);
  const render = (): Map<string, string> => renderFeedPage(page, input.site);
  return FEED_FORMATS.map((format) => ({ path: feedPagePath(format, page), key, batch: page.kind === 'archive' ? 1 : 2, render }));
}

/**
 * Decides what a build renders: every output has a key made from exactly what it depends on (an
 * article page from its article's content hash, a feed page from its articles and links, the home page
 * from all articles), and is rendered only when its key differs from the last build's or its file is
 * gone. Rendering is deterministic, so the result is byte-identical to a full build.
 */
export function planSiteBuild(input: SiteBuildInput): SiteBuildPlan {
  const newestFirst = [...input.articles].sort(compareNewestFirst);
  const outputs: Output[] = [
    {
      path: STYLESHEET_PATH,
      key: keyOf(input.buildKey, ['style', input.templates.stylesheet]),
      batch: 0,
      render: () => new Map([[STYLESHEET_PATH, input.templates.stylesheet]]),
    },
    ...newestFirst.map((article): Output => ({
      path: articlePagePath(article.id),
      key: keyOf(input.buildKey, ['article', article.id, article.contentHash]),
      batch: 0,
      render: () => new Map([[articlePagePath(article.id), renderArticlePage(article, input.site, input.templates)]]),
    })),
    ...planFeedPages(newestFirst, input.site.feed).flatMap((page) => feedPageOutputs(page, input)),
    {
      path: INDEX_PATH,
      key: keyOf(input.buildKey, ['index', articleStamps(newestFirst)]),
      batch: 3,
      render: () => new Map([[INDEX_PATH, renderIndexPage(newestFirst, input.site, input.templates)]]),
    },
  ];

  const batches = [new Map<string, string>(), new Map<string, string>(), new Map<string, string>(), new Map<string, string>()];
  const renderedBy = new Map<Output['render'], Map<string, string>>();
  let reused = 0;
  for (const output of outputs) {
    if (input.previous?.outputs[output.path] === output.key && input.existing.has(output.path)) {
      reused += 1;
      continue;
    }
    let files = renderedBy.get(output.render);
    if (files === undefined) {
      files = output.render();
      renderedBy.set(output.render, files);
    }
    batches[output.batch]?.set(output.path, files.get(output.path) as string);
  }

  const manifest: BuildManifest = { version: 1, outputs: Object.fromEntries(outputs.map((output) => [output.path, output.key])) };
  const current = new Set(outputs.map((output) => output.path));
  const stale = Object.keys(input.previous?.outputs ?? {}).filter((path) => !current.has(path));
  return { batches, stale, manifest, rendered: outputs.length - reused, reused };
}
