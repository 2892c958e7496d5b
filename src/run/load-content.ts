import type { Config } from '../config.js';
import type { Article } from '../content/article.js';
import { lastChanged } from '../content/article.js';
import { loadArticles } from '../content/load-articles.js';

/** The publication's articles, read from its content folder with its topics, zone and record bound. */
export function loadContent(config: Config): Promise<Article[]> {
  return loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
}

/** What the schedule's first-edition rule needs of the content: every publication and update instant, and the newest last change. */
export function contentChanges(articles: ReadonlyArray<Pick<Article, 'published' | 'updated'>>): { changes: Date[]; newest: Date | undefined } {
  const changes = articles.flatMap((article) => [article.published, article.updated]).filter((time): time is Date => time !== undefined);
  const newest = articles.length === 0 ? undefined : new Date(Math.max(...articles.map((article) => lastChanged(article).getTime())));
  return { changes, newest };
}
