import { hash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writevSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { settledBefore } from '../settled-change.js';
import type { Article } from './article.js';

/** Where the parse cache lives and what must hold for its entries to be valid. */
export interface ArticleCacheOptions {
  file: string;
  /**
   * Stands for everything besides a record's bytes that shapes its article: the topics, the time
   * zone and the program (a caller's build key does). Another key empties the cache.
   */
  key: string;
  /**
   * Kept by a caller that loads again and again in one process (`briefing build --watch`): each load
   * starts from what the one before kept, not from the file, which saveArticleCache writes when the
   * caller has the time.
   */
  memory?: ArticleCacheMemory;
}

/** What a resident caller keeps of the cache between loads; nothing to look into. */
export interface ArticleCacheMemory {
  stored?: StoredCache;
  /** Whether loads changed it since it was last written to its file. */
  unsaved?: boolean;
}

/** A cache as a load finds it: what was kept, by record name, and when its records were seen. */
interface StoredCache {
  key: string;
  statedAt: number;
  entries: Map<string, CacheEntry>;
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
   * (see settledBefore: a record written again within the step of its last change keeps its stamp if
   * its size is the same), so the record need not be read at all.
   */
  unchanged(name: string, stamp: RecordStamp): CachedRecord | undefined;
  /**
   * What is cached of a record read because its stamp could not vouch, if its bytes (`text`) hash as
   * cached; the new stamp is kept. A record the cache has nothing of is not hashed (the parser hashes it).
   */
  get(name: string, text: string, stamp: RecordStamp): CachedRecord | undefined;
  /** Caches a freshly parsed article (see cacheFields) with the stamp its record had just before it was read. */
  set(name: string, fields: CacheFields, stamp: RecordStamp): void;
  /**
   * Puts the cache in place (atomically) when it changed, keeping only the records this load asked
   * about; a failure leaves the old file. The file is written as the load goes, so what it holds of
   * ten thousand articles is never all in memory at once.
   */
  save(): void;
}

/**
 * The cache file's header; the file is the articles' texts one after another, then the header
 * V8-serialised, its length (4 bytes) and a mark (4 bytes): texts first, so they can be written as
 * the records are read, and the header last, once every record is known. Exported, with decodeCacheFile and encodeCacheFile, for the
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
   * Per name, where its article's text ends in the file (it starts where the one before ends). The text is the article as JSON (times as epoch milliseconds), kept as bytes: most
   * are never parsed, and one that did not change is written back as the bytes it was read as, so
   * ten thousand of them cost a read and a write, not ten thousand strings each way.
   */
  articleEnds: Float64Array;
}

/**
 * One record as cached: its stamp, what places and keys its article, and the article as stored
 * (`text`, JSON bytes) and, once asked for, parsed; and the record a load gave of it, which the
 * later loads of a resident caller give again while the record is unchanged.
 */
interface CacheEntry {
  stamp: RecordStamp;
  published: number;
  contentHash: string;
  text: Buffer;
  article?: CachedArticle | undefined;
  record?: CachedRecord;
}

/** The end of a cache file: its header's length and this mark, which a file cut short lacks. */
const TRAILER_MARK = 'BAC2';
const TRAILER_BYTES = 8;

/** A cache file's header and the bytes of each article's text (views into `bytes`); throws on a damaged file. */
export function decodeCacheFile(bytes: Buffer): { header: Partial<CacheFile>; texts: Buffer[] } {
  if (bytes.length < TRAILER_BYTES || bytes.toString('latin1', bytes.length - 4) !== TRAILER_MARK) throw new Error('not a whole cache file');
  const headerEnd = bytes.length - TRAILER_BYTES;
  const headerStart = headerEnd - bytes.readUInt32LE(headerEnd);
  if (headerStart < 0) throw new Error('header bounds out of the file');
  const header = deserialize(bytes.subarray(headerStart, headerEnd)) as Partial<CacheFile>;
  const texts: Buffer[] = [];
  if (header.articleEnds instanceof Float64Array) {
    let start = 0;
    for (const end of header.articleEnds) {
      if (!(end >= start && end <= headerStart)) throw new Error('article bounds out of the file');
      texts.push(bytes.subarray(start, end));
      start = end;
    }
  }
  return { header, texts };
}

/** The header's pieces, to be written after texts ending at `articleEnds`. */
function encodeHeader(header: CacheFile): Buffer[] {
  const serialised = serialize(header);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(serialised.length, 0);
  trailer.write(TRAILER_MARK, 4, 'latin1');
  return [serialised, trailer];
}

/** The pieces of a cache file with this header (its `articleEnds` computed) and these texts, to be written in order. */
export function encodeCacheFile(header: Omit<CacheFile, 'articleEnds'>, texts: readonly Buffer[]): Buffer[] {
  const articleEnds = new Float64Array(texts.length);
  let end = 0;
  texts.forEach((text, index) => {
    end += text.length;
    articleEnds[index] = end;
  });
  return [...texts, ...encodeHeader({ ...header, articleEnds })];
}

/** Pieces gathered before a write: a few large writes rather than one per article. */
const WRITE_CHUNK_BYTES = 1 << 20;

/**
 * A cache file being written under a temporary name, texts first; `finish` adds the header and puts
 * it in place, `abandon` removes it. A failure to write makes both remove it: a cache that cannot be
 * written only makes the next load slower.
 */
interface CacheWriter {
  /**
   * Appends an article's text; returns where it ends in the file. Nothing is written until a text
   * is appended with `fresh` (until then the cache is as it was, and the texts are views into it).
   */
  append(text: Buffer, fresh: boolean): number;
  finish(header: Omit<CacheFile, 'articleEnds'>, articleEnds: Float64Array): void;
  abandon(): void;
}

function openCacheWriter(file: string): CacheWriter {
  const temporary = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  let fd: number | undefined;
  let failed = false;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let end = 0;
  let needed = false;
  const attempt = (work: (fd: number) => void): void => {
    if (failed) return;
    try {
      if (fd === undefined) {
        mkdirSync(path.dirname(file), { recursive: true });
        // `wx`: never write through a file (or link) that happens to have the temporary name.
        fd = openSync(temporary, 'wx');
      }
      work(fd);
    } catch {
      failed = true;
    }
  };
  const flush = (): void => {
    const pieces = pending;
    const length = pendingBytes;
    pending = [];
    pendingBytes = 0;
    attempt((handle) => {
      // The pieces as they are (most are views into the file read at open): no copy into one buffer.
      if (pieces.length > 0 && writevSync(handle, pieces) !== length) throw new Error('the cache file was written short');
    });
  };
  const close = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  const abandon = (): void => {
    pending = [];
    try {
      close();
    } finally {
      rmSync(temporary, { force: true });
    }
  };
  return {
    append(text, fresh) {
      pending.push(text);
      pendingBytes += text.length;
      end += text.length;
      needed ||= fresh;
      if (needed && pendingBytes >= WRITE_CHUNK_BYTES) flush();
      return end;
    },
    finish(header, articleEnds) {
      pending.push(...encodeHeader({ ...header, articleEnds }));
      pendingBytes = pending.reduce((sum, piece) => sum + piece.length, 0);
      flush();
      attempt(() => {
        close();
        renameSync(temporary, file);
      });
      if (failed) abandon();
    },
    abandon,
  };
}

function sameStamp(a: RecordStamp, b: RecordStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

function readCache(file: string, key: string): StoredCache {
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
    if (!valid) return { key, statedAt: 0, entries };
    names.forEach((name, index) => {
      const at = 4 * index;
      entries.set(name, {
        stamp: { size: stamps[at] as number, mtimeMs: stamps[at + 1] as number, ctimeMs: stamps[at + 2] as number, ino: stamps[at + 3] as number },
        published: published[index] as number,
        contentHash: hashes[index] as string,
        text: texts[index] as Buffer,
      });
    });
    return { key, statedAt: stored.statedAt as number, entries };
  } catch {
    // Missing, damaged or from another version: parse everything, as on a first build.
    return { key, statedAt: 0, entries: new Map() };
  }
}

/** What the cache keeps of a freshly parsed article: the fields the load indexes it by, and its text without the body. */
export interface CacheFields {
  published: number;
  contentHash: string;
  text: Buffer;
}

/** The cache's fields of an article; its text is encoded into memory of its own (a resident watch keeps it). */
export function cacheFields(article: Article): CacheFields {
  const { body: _body, html: _html, sections: _sections, file: _file, ...rest } = article;
  const text = JSON.stringify({ ...rest, published: rest.published.getTime(), updated: rest.updated?.getTime() });
  return { published: article.published.getTime(), contentHash: article.contentHash, text: ownBytes(text) };
}

const UTF8 = new TextEncoder();

/** `text` as UTF-8 in a buffer of its own, never a slice of Node's shared pool: safe to keep or move to another thread. */
export function ownBytes(text: string): Buffer {
  const bytes = UTF8.encode(text);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function parseArticle(text: Buffer): CachedArticle {
  // Parsed afresh for each load, so its times can be revived in place.
  const fields = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
  fields.published = new Date(fields.published as number);
  if (fields.updated !== undefined) fields.updated = new Date(fields.updated as number);
  return fields as unknown as CachedArticle;
}

/** The header columns of a cache file, filled a record at a time in the file's order. */
class HeaderColumns {
  readonly names: string[] = [];
  private readonly stamps: number[] = [];
  private readonly published: number[] = [];
  private readonly hashes: string[] = [];
  private readonly articleEnds: number[] = [];

  add(name: string, entry: CacheEntry, end: number): void {
    this.names.push(name);
    this.stamps.push(entry.stamp.size, entry.stamp.mtimeMs, entry.stamp.ctimeMs, entry.stamp.ino);
    this.published.push(entry.published);
    this.hashes.push(entry.contentHash);
    this.articleEnds.push(end);
  }

  finish(writer: CacheWriter, key: string, statedAt: number): void {
    const { names, hashes } = this;
    writer.finish({ key, node: process.version, statedAt, names, stamps: Float64Array.from(this.stamps), published: Float64Array.from(this.published), hashes }, Float64Array.from(this.articleEnds));
  }
}

/**
 * Opens the parse cache of `loadArticles`: a file (see CacheFile) of what was parsed from each record
 * last time, but for the bodies, with the record's stamp. Reading it and a `stat` of each record is a
 * small fraction of reading and parsing every record again, which is what makes a rebuild after one
 * edit cheap. Open it before looking at any record: the time it is opened is when they were seen.
 * With `memory` (a resident caller) the load starts from what the last one kept and keeps what it
 * sees there, and the file is written only by saveArticleCache.
 */
export function openArticleCache(options: ArticleCacheOptions): ArticleCache {
  const statedAt = Date.now();
  const memory = options.memory;
  const stored = memory?.stored?.key === options.key ? memory.stored : readCache(options.file, options.key);
  // What this load keeps, in the order it asks: what is never asked for is dropped. Without memory
  // the texts go straight to the new file and only the header's few fields per record stay in
  // memory; a resident caller keeps the entries (without their parsed articles) for its next load.
  const kept = memory === undefined ? undefined : new Map<string, CacheEntry>();
  const writer = memory === undefined ? openCacheWriter(options.file) : undefined;
  const columns = new HeaderColumns();
  let changed = false;
  const keep = (name: string, entry: CacheEntry, fresh: boolean): void => {
    if (writer !== undefined) columns.add(name, entry, writer.append(entry.text, fresh));
    // Kept as it is (a changed record's entry is a new one), so the next load gives the same record of
    // an unchanged one: ten thousand objects a rebuild fewer. What was parsed of it is let go once the
    // caller's build is done (see forgetParsedArticles).
    kept?.set(name, entry);
  };
  const recordOf = (entry: CacheEntry): CachedRecord =>
    (entry.record ??= {
      published: new Date(entry.published),
      contentHash: entry.contentHash,
      article: () => (entry.article ??= parseArticle(entry.text)),
    });
  return {
    unchanged(name, stamp) {
      const entry = stored.entries.get(name);
      if (entry === undefined || !sameStamp(entry.stamp, stamp) || !settledBefore(entry.stamp, stored.statedAt)) return undefined;
      keep(name, entry, false);
      return recordOf(entry);
    },
    get(name, text, stamp) {
      const entry = stored.entries.get(name);
      // The digest the parser stores as the article's contentHash (the one-shot call costs half as much for small inputs).
      if (entry === undefined || entry.contentHash !== hash('sha256', text, 'hex')) return undefined;
      // Saved with the new stamp, so that once it is old enough it vouches without a read.
      const restamped: CacheEntry = { stamp, published: entry.published, contentHash: entry.contentHash, text: entry.text };
      keep(name, restamped, true);
      changed = true;
      return recordOf(restamped);
    },
    set(name, fields, stamp) {
      keep(name, { stamp, published: fields.published, contentHash: fields.contentHash, text: fields.text }, true);
      changed = true;
    },
    save() {
      if (memory !== undefined && kept !== undefined) {
        // Every kept stamp was seen after `statedAt` (or vouched before it): the next load may judge them by it.
        memory.unsaved = memory.unsaved === true || changed || kept.size !== stored.entries.size;
        memory.stored = { key: options.key, statedAt, entries: kept };
        return;
      }
      if (writer === undefined) return;
      if (!changed && columns.names.length === stored.entries.size) {
        writer.abandon();
        return;
      }
      columns.finish(writer, options.key, statedAt);
    },
  };
}

/**
 * Writes the cache a resident caller keeps to its file, if its loads changed it since it was last
 * written: so that a later process (a `briefing build`) finds what the resident one parsed. In place
 * atomically; a failure leaves the old file.
 */
export function saveArticleCache(memory: ArticleCacheMemory, file: string): void {
  const stored = memory.stored;
  if (stored === undefined || memory.unsaved !== true) return;
  const writer = openCacheWriter(file);
  const columns = new HeaderColumns();
  for (const [name, entry] of stored.entries) columns.add(name, entry, writer.append(entry.text, true));
  columns.finish(writer, stored.key, stored.statedAt);
  memory.unsaved = false;
}

/**
 * Lets go of the articles parsed from the entries a resident caller keeps, once its build is done:
 * between builds it keeps each record's entry, not what was parsed of it (some 10 MB after a build
 * that read all of 10,000 articles). A later build that reads one parses it again.
 */
export function forgetParsedArticles(memory: ArticleCacheMemory): void {
  for (const entry of memory.stored?.entries.values() ?? []) entry.article = undefined;
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
