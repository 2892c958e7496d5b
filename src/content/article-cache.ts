import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Article } from './article.js';

/** Where the parse cache lives and what must hold for its entries to be valid. */
export interface ArticleCacheOptions {
  file: string;
  /**
   * Stands for everything besides a record's bytes that shapes its article: the topics, the time
   * zone and the program (a caller's build key does). Another key empties the cache.
   */
  key: string;
}

/** The fields of a body: the bulk of an article, and only needed for the pages and feeds it is in. */
type BodyFields = 'body' | 'html' | 'sections';

/** What the cache keeps of an article: all but its body fields (and its display path, which depends on the working directory). */
export type CachedArticle = Omit<Article, BodyFields | 'file'>;

/** Articles parsed by an earlier load, by record name, each valid while its record's hash is the same. */
export interface ArticleCache {
  /** What was cached of the article of a record with this name and content hash, if anything. */
  get(name: string, contentHash: string): CachedArticle | undefined;
  set(name: string, article: Article): void;
  /** Writes the cache (atomically) when it changed, keeping only the records named; a failure leaves the old file. */
  save(names: readonly string[]): void;
}

interface CacheFile {
  key: string;
  /** The Node version that wrote it: its serialisation format is V8's. */
  node: string;
  articles: Record<string, CachedArticle>;
}

function readCache(file: string, key: string): Map<string, CachedArticle> {
  try {
    const stored = deserialize(readFileSync(file)) as Partial<CacheFile>;
    if (stored.key !== key || stored.node !== process.version || typeof stored.articles !== 'object' || stored.articles === null) return new Map();
    return new Map(Object.entries(stored.articles));
  } catch {
    // Missing, damaged or from another version: parse everything, as on a first build.
    return new Map();
  }
}

function withoutBody(article: Article): CachedArticle {
  const { body: _body, html: _html, sections: _sections, file: _file, ...rest } = article;
  return rest;
}

/**
 * Opens the parse cache of `loadArticles`: a V8-serialised file of what was parsed from each record
 * last time, but for the bodies. Reading it is a small fraction of parsing every record again, which
 * is what makes a rebuild after one edit cheap.
 */
export function openArticleCache(options: ArticleCacheOptions): ArticleCache {
  const entries = readCache(options.file, options.key);
  let changed = false;
  return {
    get(name, contentHash) {
      const article = entries.get(name);
      return article?.contentHash === contentHash ? article : undefined;
    },
    set(name, article) {
      entries.set(name, withoutBody(article));
      changed = true;
    },
    save(names) {
      const kept = new Set(names);
      for (const name of entries.keys()) {
        if (!kept.has(name)) {
          entries.delete(name);
          changed = true;
        }
      }
      if (!changed) return;
      const temporary = `${options.file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
      try {
        mkdirSync(path.dirname(options.file), { recursive: true });
        const contents: CacheFile = { key: options.key, node: process.version, articles: Object.fromEntries(entries) };
        writeFileSync(temporary, serialize(contents), { flag: 'wx' });
        renameSync(temporary, options.file);
        changed = false;
      } catch {
        // A cache that cannot be written only makes the next load slower.
        rmSync(temporary, { force: true });
      }
    },
  };
}

/**
 * The article of a cached record: its cached fields as they are, and its body fields parsed from
 * the record when first read. Parsing is deterministic and the record's hash is the one cached, so
 * they are what a full parse gives; a build that renders only a few pages parses only their records.
 */
export function articleFromCache(cached: CachedArticle, file: string, parseBody: () => Pick<Article, BodyFields>): Article {
  let body: Pick<Article, BodyFields> | undefined;
  const parsed = (): Pick<Article, BodyFields> => (body ??= parseBody());
  return {
    ...cached,
    file,
    get body() {
      return parsed().body;
    },
    get html() {
      return parsed().html;
    },
    get sections() {
      return parsed().sections;
    },
  };
}
