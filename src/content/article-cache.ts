import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { Article } from './article.js';

/** Where the parse cache lives and what must hold for its articles to be valid. */
export interface ArticleCacheOptions {
  file: string;
  /**
   * Stands for everything besides a record's bytes that shapes its article: the topics, the time
   * zone and the program (a caller's build key does). Another key empties the cache.
   */
  key: string;
}

/** Articles parsed by an earlier load, by record name, each valid while its record's hash is the same. */
export interface ArticleCache {
  /** The article parsed from a record with this name and content hash, if it was cached. */
  get(name: string, contentHash: string): Article | undefined;
  set(name: string, article: Article): void;
  /** Writes the cache (atomically) when it changed, keeping only the records named; a failure leaves the old file. */
  save(names: readonly string[]): void;
}

interface CacheFile {
  key: string;
  /** The Node version that wrote it: its serialisation format is V8's. */
  node: string;
  articles: Record<string, Article>;
}

function readCache(file: string, key: string): Map<string, Article> {
  try {
    const stored = deserialize(readFileSync(file)) as Partial<CacheFile>;
    if (stored.key !== key || stored.node !== process.version || typeof stored.articles !== 'object' || stored.articles === null) return new Map();
    return new Map(Object.entries(stored.articles));
  } catch {
    // Missing, damaged or from another version: parse everything, as on a first build.
    return new Map();
  }
}

/**
 * Opens the parse cache of `loadArticles`: a V8-serialised file of the articles parsed last time.
 * Reading it is a small fraction of parsing the records again, which is what makes a rebuild after
 * one edit cheap. Parsing is deterministic, so a cached article is exactly what parsing would give.
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
      entries.set(name, article);
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
