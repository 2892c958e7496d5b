import { hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import type { Topic } from '../config.js';
import { BriefingError, missingFolderHint, type Problem } from '../errors.js';
import { checkUtf8, notUtf8Message, type NotUtf8 } from '../utf8-text.js';
import type { Article, SiteArticle } from './article.js';
import { articleFromCache, cacheFields, openArticleCache, type ArticleCacheOptions, type CachedArticle, type CachedRecord, type RecordStamp } from './article-cache.js';
import { packArticle, type ArticleSpool, type PackedArticle } from './article-spool.js';
import { indexArticle, type IndexedArticle } from './indexed-article.js';
import { createArticleParser, type ArticleParser, type ParseResult } from './parse-article.js';
import { statHere, type RecordStatter } from './record-stats.js';
import { createSharedParser, type BegunBatch, type ParsedArticle, type RecordToParse } from './shared-parse.js';

/** Where the records are and what they are checked against. */
export interface LoadArticlesOptions {
  dir: string;
  topics: Topic[];
  /** Zone of dates written without an offset. */
  timeZone: string;
  /** Records larger than this are refused, unread (`content.maxRecordBytes`). */
  maxRecordBytes: number;
  /** Keep parsed articles in this file, so the next load parses only the records that changed. */
  cache?: ArticleCacheOptions;
  /** Takes the `stat` of every record with a helper thread (a caller that loads again and again keeps one); without it, this thread does. */
  statter?: RecordStatter;
}

/** What a build loads its articles with. */
export interface LoadArticleIndexOptions extends LoadArticlesOptions {
  /** Keep what the site shows of freshly parsed articles here rather than in memory (a build renders few at a time). */
  spool?: ArticleSpool;
}

/**
 * Loads every `*.md` record of a folder into articles, newest first. All problems of all files are
 * gathered and thrown as one BriefingError, each line `content: FILE:LINE: field: what is wrong`.
 */
export async function loadArticles(options: LoadArticlesOptions): Promise<Article[]> {
  return (await loadEntries(options, WHOLE)).map((entry) => entry.article());
}

/**
 * Loads the records as `loadArticles` does, newest first, each article as an index entry that gives
 * what the site shows of it. With a cache, a record whose stamp (size, times, inode) vouches for its
 * bytes, or whose bytes hash as before, gives its article from the cache: what the cache keeps of it
 * parsed only when asked for, and its body only when read.
 */
export function loadArticleIndex(options: LoadArticleIndexOptions): Promise<Array<IndexedArticle<SiteArticle>>> {
  const spool = options.spool;
  if (spool === undefined) return loadEntries(options, WHOLE);
  // The parsing threads pack each article for the spool and the cache: this thread only writes it.
  return loadEntries(options, { pack: true, keep: (article) => (isPacked(article) ? spool.keepPacked(article) : spool.keep(article)) });
}

/**
 * How the load of both keeps a freshly parsed article (a cached one has its entry anyway): whole,
 * or packed by the thread that parsed it (`pack`).
 */
interface Keeper<A extends SiteArticle> {
  pack: boolean;
  keep(article: Article | PackedArticle): IndexedArticle<A>;
}

function isPacked(article: Article | PackedArticle): article is PackedArticle {
  return 'cache' in article;
}

/** Keeps each article whole, in memory (a load that parses without packing gives only whole ones). */
const WHOLE: Keeper<Article> = { pack: false, keep: (article) => indexArticle(article as Article) };

async function loadEntries<A extends SiteArticle>(options: LoadArticlesOptions, keeper: Keeper<A>): Promise<Array<IndexedArticle<A | Article>>> {
  const names = listRecords(options.dir);
  const records = createRecordReader(options, keeper.pack);
  const cache = options.cache === undefined ? undefined : openArticleCache(options.cache);
  // Every record's stamp before any is read: an edit in between leaves a stamp older than the bytes
  // read, so the next load reads the record again, never the other way round. After the cache is
  // opened, whose time says when the records were seen.
  const stats = options.statter === undefined ? statHere(records.folder, names) : options.statter.stat(records.folder, names);
  // An entry, the problems of a record, or its text to parse (with its stamp): no object per record
  // kept besides its entry (a hundred thousand records).
  const read = (name: string, index: number): IndexedArticle | Problem[] | ToParse => {
    const seen = stats.stamp(index);
    if (seen === undefined) return [{ file: records.shown(name), message: `cannot read: ${stats.failure(index) ?? 'unknown error'}` }];
    // The size before anything else, the cache included: a record too large is refused, not read.
    if (seen.size > options.maxRecordBytes) return [records.tooLarge(name, seen.size)];
    const unchanged = cache?.unchanged(name, seen);
    if (unchanged !== undefined) return records.fromCache(name, unchanged, undefined);
    let text: string;
    try {
      const read = readRecord(records.absolute(name), options.maxRecordBytes);
      if (typeof read === 'number') return [records.tooLarge(name, read)];
      if (typeof read !== 'string') return [{ file: records.shown(name), line: read.line, message: notUtf8Message(read) }];
      text = read;
    } catch (error) {
      return [{ file: records.shown(name), message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }];
    }
    const cached = cache?.get(name, text, seen);
    if (cached !== undefined) return records.fromCache(name, cached, text);
    return { name, text, stamp: seen };
  };
  const parsed = (record: ToParse, { article, problems }: ParsedArticle): IndexedArticle<A> | Problem[] => {
    if (article === undefined) return problems;
    cache?.set(record.name, isPacked(article) ? article.cache : cacheFields(article), record.stamp);
    return keeper.keep(article);
  };
  const entries: Array<IndexedArticle<A | Article>> = [];
  const problems: Problem[] = [];
  const add = (loaded: IndexedArticle<A | Article> | Problem[]): void => {
    if (Array.isArray(loaded)) problems.push(...loaded);
    else entries.push(loaded);
  };
  // A window of records at a time: those to parse are handed to the parser together (a helper
  // thread takes a share of a large window), and the next window is read and handed over before
  // this one is finished, so the helper parses while this thread reads and keeps. Entries and
  // problems are kept in name order, as from one thread.
  const settle = ({ window, batch }: { window: ReturnType<typeof read>[]; batch: BegunBatch }): void => {
    const results = batch.finish();
    let next = 0;
    for (const loaded of window) add(isToParse(loaded) ? parsed(loaded, results[next++] as ParsedArticle) : loaded);
  };
  try {
    let begun: Parameters<typeof settle>[0] | undefined;
    for (let start = 0; start < names.length; start += LOAD_WINDOW) {
      const window = names.slice(start, start + LOAD_WINDOW).map((name, offset) => read(name, start + offset));
      const following = { window, batch: records.begin(window.filter(isToParse)) };
      if (begun !== undefined) settle(begun);
      begun = following;
    }
    if (begun !== undefined) settle(begun);
  } finally {
    records.close();
  }
  cache?.save();

  if (problems.length > 0) {
    throw BriefingError.fromProblems(
      'content',
      'invalid-content',
      problems,
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the article records`,
    );
  }
  return newestFirst(entries);
}

/**
 * The entries newest first, the id breaking ties, sorted by their times read once each (an entry may
 * make its Date when asked for it, and a sort asks n log n times).
 */
function newestFirst<E extends IndexedArticle<SiteArticle>>(entries: readonly E[]): E[] {
  const times = entries.map((entry) => entry.published.getTime());
  const order = Array.from(entries.keys()).sort((a, b) => {
    const byTime = (times[b] as number) - (times[a] as number);
    if (byTime !== 0) return byTime;
    const idA = (entries[a] as E).id;
    const idB = (entries[b] as E).id;
    return idA < idB ? -1 : idA > idB ? 1 : 0;
  });
  return order.map((index) => entries[index] as E);
}

/** A record read and not found in the cache: its text is parsed with the others of its window. */
interface ToParse {
  name: string;
  text: string;
  stamp: RecordStamp;
}

function isToParse(loaded: IndexedArticle | Problem[] | ToParse): loaded is ToParse {
  return !Array.isArray(loaded) && 'text' in loaded;
}

/** Records read at a time: the texts of those to parse are held until parsed. */
const LOAD_WINDOW = 128;

/** Reads the records of one folder by name; made once per load, so little is made per record of ten thousand. */
interface RecordReader {
  /** The folder's absolute path, ending in the separator. */
  readonly folder: string;
  absolute(name: string): string;
  /** The path shown in problems and kept as the article's `file`. */
  shown(name: string): string;
  /** Hands records to the parser (a helper thread takes a share of a large window); `finish` gives their results in order. */
  begin(records: readonly ToParse[]): BegunBatch;
  /** Stops the helper thread, if the load started one. */
  close(): void;
  /** The index entry of a cached article, its record's bytes given (`text`) or read only if its body is. */
  fromCache(name: string, record: CachedRecord, text: string | undefined): IndexedArticle;
  /** The problem of a record of `size` bytes, over the limit. */
  tooLarge(name: string, size: number): Problem;
}

/**
 * A record's text, read synchronously like the parsing (10,000 small records are read in a tenth
 * of a second, five times faster than through the thread pool) and never past `limit` bytes: the
 * size it had grown to, over the limit, instead; where its bytes are not UTF-8, where they first are not.
 */
function readRecord(file: string, limit: number): string | number | NotUtf8 {
  const fd = openSync(file, 'r');
  try {
    // One byte more than announced, to see a file that grew since; more room only if it did.
    let buffer = Buffer.allocUnsafe(Math.min(fstatSync(fd).size, limit) + 1);
    let length = 0;
    for (;;) {
      length += readSync(fd, buffer, length, buffer.length - length, null);
      if (length > limit) return Math.max(length, fstatSync(fd).size);
      // Less than the room asked for: the end of the file (a regular file reads short only there).
      if (length < buffer.length) {
        const bytes = buffer.subarray(0, length);
        return checkUtf8(bytes) ?? bytes.toString('utf8');
      }
      const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, limit + 1));
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
  } finally {
    closeSync(fd);
  }
}

/** The reader of a load; with `pack`, the records it parses give packed articles (see packArticle). */
function createRecordReader(options: LoadArticlesOptions, pack: boolean): RecordReader {
  let parser: ArticleParser | undefined;
  const rules = (): ArticleParser => (parser ??= createArticleParser({ topics: options.topics, timeZone: options.timeZone }));
  // Paths joined by hand (path.join normalises every time, a good part of a load that reads nothing):
  // the folder's once, then a name in it; shown relative to the working directory.
  const folder = path.join(path.resolve(options.dir), path.sep);
  const shownDir = path.relative(process.cwd(), options.dir);
  const absolute = (name: string): string => `${folder}${name}`;
  const shown = (name: string): string => (shownDir === '' ? name : `${shownDir}${path.sep}${name}`);
  const idOf = (name: string): string => name.slice(0, -'.md'.length);
  const parse = (name: string, text: string): ParseResult => rules().parse(text, shown(name), idOf(name));
  const parseToKeep = (record: RecordToParse): ParsedArticle => {
    const result = rules().parse(record.text, record.file, record.id);
    return pack && result.article !== undefined ? { article: packArticle(result.article) } : result;
  };
  const shared = createSharedParser({ topics: options.topics, timeZone: options.timeZone }, parseToKeep, pack);

  // The whole of a cached article: its cached fields, and its body fields from the record's bytes.
  const whole = (name: string, record: CachedRecord, text: string | undefined): Article => {
    const file = shown(name);
    let bytes = text;
    // Bytes the record's stamp vouched for, read only now that its body is wanted: they must still be
    // the ones cached, or the page would mix two versions of the record.
    const recordText = (): string => {
      if (bytes !== undefined) return bytes;
      let read: ReturnType<typeof readRecord> | undefined;
      try {
        read = readRecord(absolute(name), options.maxRecordBytes);
      } catch {
        // Gone or unreadable since the load: as good as changed.
      }
      // Grown past the limit since the load: changed too, and not read.
      bytes = typeof read === 'string' ? read : undefined;
      if (bytes === undefined || hash('sha256', bytes, 'hex') !== record.contentHash) {
        throw new BriefingError('content', 'content-changed', `${file} changed while the build was running; run it again`);
      }
      return bytes;
    };
    // The record parsed before with these bytes and rules; parsing is deterministic.
    const unparsable = (): Error => new Error(`${file} no longer parses although its bytes and the rules are as cached`);
    const all = (): Article => {
      const parsed = parse(name, recordText()).article;
      if (parsed === undefined) throw unparsable();
      return parsed;
    };
    const html = (): string => {
      const rendered = rules().html(recordText());
      if (rendered === undefined) throw unparsable();
      return rendered;
    };
    let cached: CachedArticle;
    try {
      cached = record.article();
    } catch {
      // A damaged entry: the record itself has what it held.
      return all();
    }
    return articleFromCache(cached, file, { html, all });
  };

  return {
    folder,
    absolute,
    shown,
    begin: (toParse) => shared.begin(toParse.map(({ name, text }) => ({ text, file: shown(name), id: idOf(name) }))),
    close: () => shared.close(),
    tooLarge(name, size) {
      return {
        file: shown(name),
        message: `the record is ${size} bytes, over the limit of ${options.maxRecordBytes} (content.maxRecordBytes); split it or raise the limit`,
      };
    },
    fromCache(name, record, text) {
      // Made afresh when asked for, not kept: a build that renders every page must not hold every body.
      return { id: idOf(name), published: record.published, contentHash: record.contentHash, article: () => whole(name, record, text) };
    },
  };
}

/** Whether a file of the content folder is a record: `*.md`, not hidden (an editor's swap and backup files are not). */
export function isRecordName(name: string): boolean {
  return name.endsWith('.md') && !name.startsWith('.');
}

/**
 * The record files of the folder in name order (so problems come out in a stable order). Listed
 * synchronously: the build that follows runs without returning to the event loop, so the handles an
 * asynchronous listing's completion made (a name and an entry per record) would stay alive through it.
 */
function listRecords(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new BriefingError('content', 'content-unreadable', `cannot read the content folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}${missingFolderHint(error, 'paths.content')}`, {
      cause: error,
    });
  }
  return entries
    .filter((entry) => !entry.isDirectory() && isRecordName(entry.name))
    .map((entry) => entry.name)
    .sort();
}
