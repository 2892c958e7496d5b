import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writevSync, type Stats } from 'node:fs';
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

/**
 * What a record file's metadata says about its bytes. The change time is in it because no tool can
 * set it: an edit whose modification time is put back (`cp -p`, `rsync -t`, `touch -d`, an unpacked
 * archive) still changes it, and a file replaced by a rename has another inode.
 */
export interface RecordStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** The stamp of a record from its `stat`. */
export function recordStamp(stats: Stats): RecordStamp {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

/**
 * What the cache holds of a record's article: at once, what places it among the others and keys its
 * pages; the rest only when asked for, since a build that renders a few pages needs only their articles.
 */
export interface CachedRecord {
  published: Date;
  contentHash: string;
  article(): CachedArticle;
}

/** Articles parsed by an earlier load, by record name, each valid while its record's bytes are the same. */
export interface ArticleCache {
  /**
   * What is cached of a record whose stamp is the one recorded and old enough to vouch for its bytes
   * (see `vouches`), so the record need not be read at all.
   */
  unchanged(name: string, stamp: RecordStamp): CachedRecord | undefined;
  /** What is cached of a record read because its stamp could not vouch, if its bytes hash as cached; the new stamp is kept. */
  get(name: string, contentHash: string, stamp: RecordStamp): CachedRecord | undefined;
  /** Caches a freshly parsed article with the stamp its record had just before it was read. */
  set(name: string, article: Article, stamp: RecordStamp): void;
  /** Writes the cache (atomically) when it changed, keeping only the records this load asked about; a failure leaves the old file. */
  save(): void;
}

/**
 * The cache file's header; the file is its length (4 bytes), the header V8-serialised, then the
 * articles' texts one after another. Exported, with decodeCacheFile and encodeCacheFile, for the
 * tests that read and change it.
 */
export interface CacheFile {
  key: string;
  /** The Node version that wrote it: its serialisation format is V8's. */
  node: string;
  /** When (this machine's clock, ms) the load that wrote it started looking at the records. */
  statedAt: number;
  names: string[];
  /** Per name, four numbers: its record's size, modification time, change time and inode. */
  stamps: Float64Array;
  /** Per name, its article's publication time (epoch ms) and content hash, to be had without parsing its text. */
  published: Float64Array;
  hashes: string[];
  /**
   * Per name, where its article's text ends in the bytes after the header (it starts where the one
   * before ends). The text is the article as JSON (times as epoch milliseconds), kept as bytes: most
   * are never parsed, and one that did not change is written back as the bytes it was read as, so
   * ten thousand of them cost a read and a write, not ten thousand strings each way.
   */
  articleEnds: Float64Array;
}

/** One record as cached: its stamp, what places and keys its article, and the article as stored (`text`, JSON bytes) and, once asked for, parsed. */
interface CacheEntry {
  stamp: RecordStamp;
  published: number;
  contentHash: string;
  text: Buffer;
  article?: CachedArticle;
}

const HEADER_LENGTH_BYTES = 4;

/** A cache file's header and the bytes of each article's text (views into `bytes`); throws on a damaged file. */
export function decodeCacheFile(bytes: Buffer): { header: Partial<CacheFile>; texts: Buffer[] } {
  const headerEnd = HEADER_LENGTH_BYTES + bytes.readUInt32LE(0);
  const header = deserialize(bytes.subarray(HEADER_LENGTH_BYTES, headerEnd)) as Partial<CacheFile>;
  const texts: Buffer[] = [];
  if (header.articleEnds instanceof Float64Array) {
    let start = headerEnd;
    for (const end of header.articleEnds) {
      if (!(end >= start - headerEnd && headerEnd + end <= bytes.length)) throw new Error('article bounds out of the file');
      texts.push(bytes.subarray(start, headerEnd + end));
      start = headerEnd + end;
    }
  }
  return { header, texts };
}

/** The pieces of a cache file with this header (its `articleEnds` computed) and these texts, to be written in order. */
export function encodeCacheFile(header: Omit<CacheFile, 'articleEnds'>, texts: readonly Buffer[]): Buffer[] {
  const articleEnds = new Float64Array(texts.length);
  let end = 0;
  texts.forEach((text, index) => {
    end += text.length;
    articleEnds[index] = end;
  });
  const serialised = serialize({ ...header, articleEnds });
  const length = Buffer.alloc(HEADER_LENGTH_BYTES);
  length.writeUInt32LE(serialised.length, 0);
  return [length, serialised, ...texts];
}

/**
 * Whether a stamp seen at `statedAt` still vouches for the bytes read after it. A file system keeps
 * times in steps (nanoseconds on most, whole seconds on some, two on FAT); a record written again
 * within the step of its last change keeps its stamp if its size is the same. So a stamp vouches only
 * once its last change lay a step before it was seen: later writes then get a later time. Until then
 * (a record changed in the moments before a build) the record is read and hashed, as git does with
 * its "racily clean" files. Whole-second times are taken for a coarse file system. Like git, this
 * trusts the file system's clock (a network share's) to agree with this machine's within the step.
 */
function vouches(stamp: RecordStamp, statedAt: number): boolean {
  const coarse = stamp.mtimeMs % 1000 === 0 && stamp.ctimeMs % 1000 === 0;
  const step = coarse ? 3000 : 100;
  return Math.max(stamp.mtimeMs, stamp.ctimeMs) < statedAt - step;
}

function sameStamp(a: RecordStamp, b: RecordStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

function readCache(file: string, key: string): { statedAt: number; entries: Map<string, CacheEntry> } {
  const entries = new Map<string, CacheEntry>();
  try {
    const { header: stored, texts } = decodeCacheFile(readFileSync(file));
    const { names, stamps, published, hashes } = stored;
    const valid =
      stored.key === key &&
      stored.node === process.version &&
      typeof stored.statedAt === 'number' &&
      Array.isArray(names) &&
      stamps instanceof Float64Array &&
      published instanceof Float64Array &&
      Array.isArray(hashes) &&
      stamps.length === 4 * names.length &&
      published.length === names.length &&
      hashes.length === names.length &&
      texts.length === names.length;
    if (!valid) return { statedAt: 0, entries };
    names.forEach((name, index) => {
      const at = 4 * index;
      entries.set(name, {
        stamp: { size: stamps[at] as number, mtimeMs: stamps[at + 1] as number, ctimeMs: stamps[at + 2] as number, ino: stamps[at + 3] as number },
        published: published[index] as number,
        contentHash: hashes[index] as string,
        text: texts[index] as Buffer,
      });
    });
    return { statedAt: stored.statedAt as number, entries };
  } catch {
    // Missing, damaged or from another version: parse everything, as on a first build.
    return { statedAt: 0, entries: new Map() };
  }
}

function withoutBody(article: Article): CachedArticle {
  const { body: _body, html: _html, sections: _sections, file: _file, ...rest } = article;
  return rest;
}

function articleText(article: CachedArticle): Buffer {
  return Buffer.from(JSON.stringify({ ...article, published: article.published.getTime(), updated: article.updated?.getTime() }), 'utf8');
}

function parseArticle(text: Buffer): CachedArticle {
  // Parsed afresh for each load, so its times can be revived in place.
  const fields = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
  fields.published = new Date(fields.published as number);
  if (fields.updated !== undefined) fields.updated = new Date(fields.updated as number);
  return fields as unknown as CachedArticle;
}

/**
 * Opens the parse cache of `loadArticles`: a file (see CacheFile) of what was parsed from each record
 * last time, but for the bodies, with the record's stamp. Reading it and a `stat` of each record is a
 * small fraction of reading and parsing every record again, which is what makes a rebuild after one
 * edit cheap. Open it before looking at any record: the time it is opened is when they were seen.
 */
export function openArticleCache(options: ArticleCacheOptions): ArticleCache {
  const statedAt = Date.now();
  const stored = readCache(options.file, options.key);
  // Entries move from `stored` to `entries` as the load asks for them; what is never asked for is dropped.
  const entries = new Map<string, CacheEntry>();
  let changed = false;
  const recordOf = (entry: CacheEntry): CachedRecord => ({
    published: new Date(entry.published),
    contentHash: entry.contentHash,
    article: () => (entry.article ??= parseArticle(entry.text)),
  });
  return {
    unchanged(name, stamp) {
      const entry = stored.entries.get(name);
      if (entry === undefined || !sameStamp(entry.stamp, stamp) || !vouches(entry.stamp, stored.statedAt)) return undefined;
      entries.set(name, entry);
      return recordOf(entry);
    },
    get(name, contentHash, stamp) {
      const entry = stored.entries.get(name);
      if (entry?.contentHash !== contentHash) return undefined;
      // Saved with the new stamp, so that once it is old enough it vouches without a read.
      const restamped = { ...entry, stamp };
      entries.set(name, restamped);
      changed = true;
      return recordOf(restamped);
    },
    set(name, article, stamp) {
      const cached = withoutBody(article);
      entries.set(name, { stamp, published: article.published.getTime(), contentHash: article.contentHash, text: articleText(cached), article: cached });
      changed = true;
    },
    save() {
      if (!changed && entries.size === stored.entries.size) return;
      const names = [...entries.keys()];
      const stamps = new Float64Array(4 * names.length);
      const published = new Float64Array(names.length);
      const hashes: string[] = [];
      const texts: Buffer[] = [];
      names.forEach((name, index) => {
        const entry = entries.get(name) as CacheEntry;
        stamps.set([entry.stamp.size, entry.stamp.mtimeMs, entry.stamp.ctimeMs, entry.stamp.ino], 4 * index);
        published[index] = entry.published;
        hashes.push(entry.contentHash);
        texts.push(entry.text);
      });
      const temporary = `${options.file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
      try {
        mkdirSync(path.dirname(options.file), { recursive: true });
        const pieces = encodeCacheFile({ key: options.key, node: process.version, statedAt, names, stamps, published, hashes }, texts);
        // The pieces as they are (most are views into the file read at open): no copy into one buffer.
        const fd = openSync(temporary, 'wx');
        try {
          const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
          if (writevSync(fd, pieces) !== length) throw new Error('the cache file was written short');
        } finally {
          closeSync(fd);
        }
        renameSync(temporary, options.file);
      } catch {
        // A cache that cannot be written only makes the next load slower.
        rmSync(temporary, { force: true });
      }
    },
  };
}

/** How a cached article's body fields are had when first read: its `html` alone, or all of them. */
export interface BodyParsers {
  html(): string;
  all(): Pick<Article, BodyFields>;
}

/**
 * The article of a cached record: its cached fields as they are, and its body fields parsed from
 * the record when first read, `html` on its own if that is all that is read (a feed entry). Parsing
 * is deterministic and the record's bytes are the ones cached, so they are what a full parse gives; a
 * build that renders only a few pages parses only their records.
 */
export function articleFromCache(cached: CachedArticle, file: string, parsers: BodyParsers): Article {
  let body: Pick<Article, BodyFields> | undefined;
  let html: string | undefined;
  const parsed = (): Pick<Article, BodyFields> => (body ??= parsers.all());
  // The cached fields copied onto the object with the getters: one object per article, of ten thousand.
  return Object.assign(
    {
      file,
      get body() {
        return parsed().body;
      },
      get html() {
        return body?.html ?? (html ??= parsers.html());
      },
      get sections() {
        return parsed().sections;
      },
    },
    cached,
  );
}
