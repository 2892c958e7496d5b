import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Article, SiteArticle, SiteSection } from './article.js';
import { cacheFields, ownBytes, type CacheFields } from './article-cache.js';
import { indexArticle, type IndexedArticle } from './indexed-article.js';

/**
 * Parsed articles kept on disk rather than in memory while a build runs: a full build parses every
 * record once but renders each page from only a few of them at a time, so holding them all would make
 * its memory grow with the number of articles. What is kept is what the site shows of an article
 * (`SiteArticle`): its Markdown and the blocks' plain text, half of a parsed article, are not written
 * to be read back. The file is unlinked as soon as it is opened: it is never seen by anyone else and
 * goes away with the process, however that ends.
 */
export interface ArticleSpool {
  /**
   * Keeps what the site shows of an article; its index entry gives that back, read from the spool
   * each time it is asked for (held in memory should the spool fail).
   */
  keep(article: Article): IndexedArticle<SiteArticle>;
  /** Keeps an article another thread has already encoded (see packArticle): this thread only writes its bytes. */
  keepPacked(packed: PackedArticle): IndexedArticle<SiteArticle>;
  /**
   * The entries as plain data another thread of this process reads them by (see readSpoolTable), in
   * their order; undefined unless every one was kept by this spool (and not held in memory).
   */
  table(entries: ReadonlyArray<IndexedArticle<SiteArticle>>): SpoolTable | undefined;
  close(): void;
}

/**
 * Spooled articles as plain data: the spool's descriptor, for each article its id and row, and the
 * rows themselves in shared memory (not copied: the spool adds no rows once its articles are loaded).
 */
export interface SpoolTable {
  fd: number;
  ids: string[];
  rows: Int32Array<ArrayBuffer>;
  /** Per row, NUMBERS numbers: publication time, place, head length, sections length. */
  numbers: Float64Array<SharedArrayBuffer>;
  /** Per row, its content hash as HASH_BYTES bytes. */
  hashes: Uint8Array<SharedArrayBuffer>;
}

/** Reads a kept article back from where its parts lie: the article but for its sections (with its html), then those. */
type Restore = (at: number, headLength: number, sectionsLength: number) => SiteArticle;

const NUMBERS = 4;
const HASH_BYTES = 32;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * What a spool knows of each article it keeps, as rows of two arrays rather than an object, a Date,
 * a hash string and numbers each: a build keeps a hundred thousand of them.
 */
class SpoolRows {
  private count = 0;
  // Shared memory, so another thread reads the rows without a copy (see SpoolTable).
  private numbers = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT * NUMBERS * 256));
  private hashes = new Uint8Array(new SharedArrayBuffer(HASH_BYTES * 256));

  constructor(private readonly restore: Restore) {}

  /** Rows of another thread's spool, read through its descriptor. */
  static of(table: SpoolTable): SpoolRows {
    const rows = new SpoolRows(restorer(table.fd));
    // Full: a row added here (none is) would go to new arrays, never over the owner's.
    rows.count = table.numbers.length / NUMBERS;
    rows.numbers = table.numbers;
    rows.hashes = table.hashes;
    return rows;
  }

  /** The table of the given rows, in order. */
  table(fd: number, ids: string[], which: readonly number[]): SpoolTable {
    return { fd, ids, rows: Int32Array.from(which), numbers: this.numbers, hashes: this.hashes };
  }

  add(publishedMs: number, contentHash: string, at: number, headLength: number, bodyLength: number): number {
    if (this.count * NUMBERS === this.numbers.length) {
      // Doubled when full: a copy of a few megabytes at most, a few times a build.
      const numbers = new Float64Array(new SharedArrayBuffer(this.numbers.byteLength * 2));
      numbers.set(this.numbers);
      this.numbers = numbers;
      const hashes = new Uint8Array(new SharedArrayBuffer(this.hashes.byteLength * 2));
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    const row = this.count;
    const first = NUMBERS * row;
    this.numbers[first] = publishedMs;
    this.numbers[first + 1] = at;
    this.numbers[first + 2] = headLength;
    this.numbers[first + 3] = bodyLength;
    this.hashes.set(Buffer.from(contentHash, 'hex'), HASH_BYTES * row);
    this.count += 1;
    return row;
  }

  publishedMs(row: number): number {
    return this.numbers[NUMBERS * row] as number;
  }

  contentHash(row: number): string {
    return Buffer.from(this.hashes.buffer, this.hashes.byteOffset + HASH_BYTES * row, HASH_BYTES).toString('hex');
  }

  read(row: number): SiteArticle {
    const first = NUMBERS * row;
    return this.restore(this.numbers[first + 1] as number, this.numbers[first + 2] as number, this.numbers[first + 3] as number);
  }
}

/**
 * The index entry of a spooled article: its id and its row, as one small object whose methods are
 * shared; its publication time and content hash are made from the row when asked for.
 */
class SpooledArticle implements IndexedArticle<SiteArticle> {
  constructor(
    readonly id: string,
    readonly row: number,
    readonly rows: SpoolRows,
  ) {}

  get published(): Date {
    return new Date(this.rows.publishedMs(this.row));
  }

  get contentHash(): string {
    return this.rows.contentHash(this.row);
  }

  article(): SiteArticle {
    return this.rows.read(this.row);
  }
}

/** The article as spooled: times as epoch milliseconds, as JSON has no dates. */
function headText(article: SiteArticle): string {
  const { sections: _sections, ...head } = article;
  return JSON.stringify({ ...head, published: head.published.getTime(), updated: head.updated?.getTime() });
}

/**
 * A freshly parsed article as a build keeps it, encoded by the thread that parsed it (so the two
 * parsing threads share this work and the loading thread only writes bytes): the fields the load
 * indexes it by, its parse-cache entry, and what the site shows of it as the spool keeps it.
 */
export interface PackedArticle {
  id: string;
  cache: CacheFields;
  /** The spool's head (the article but for its sections) and sections, as JSON in UTF-8. */
  head: Buffer;
  sections: Buffer;
}

/** Encodes a parsed article for the parse cache and the spool. */
export function packArticle(article: Article): PackedArticle {
  const shown = siteArticle(article);
  return { id: article.id, cache: cacheFields(article), head: ownBytes(headText(shown)), sections: ownBytes(JSON.stringify(shown.sections)) };
}

/** A packed article's buffers as another thread sends them (plain byte arrays), as Buffers again without a copy. */
export function revivePackedArticle(packed: PackedArticle): PackedArticle {
  const buffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { id: packed.id, cache: { ...packed.cache, text: buffer(packed.cache.text) }, head: buffer(packed.head), sections: buffer(packed.sections) };
}

/** The memory a packed article's buffers own, to move to another thread rather than copy. */
export function packedTransfers(packed: PackedArticle): ArrayBuffer[] {
  return [packed.cache.text.buffer, packed.head.buffer, packed.sections.buffer] as ArrayBuffer[];
}

/** A spooled head's fields, its times revived. */
function headFields(text: string): Record<string, unknown> {
  const head = JSON.parse(text) as Record<string, unknown>;
  head.published = new Date(head.published as number);
  if (head.updated !== undefined) head.updated = new Date(head.updated as number);
  return head;
}

/** What the site shows of an article, from its spooled head and sections (kept in memory when the spool cannot grow). */
function siteArticleOf(head: Buffer, sections: Buffer): SiteArticle {
  return { ...headFields(head.toString('utf8')), sections: JSON.parse(sections.toString('utf8')) as SiteSection[] } as unknown as SiteArticle;
}

/** Reads kept articles back from the spool's file, by position. */
function restorer(fd: number): Restore {
  const read = (at: number, length: number): string => {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const count = readSync(fd, buffer, done, length - done, at + done);
      if (count === 0) throw new Error('the article spool ended early');
      done += count;
    }
    return buffer.toString('utf8');
  };
  return (at, headLength, sectionsLength) => {
    const head = headFields(read(at, headLength));
    let sections: SiteSection[] | undefined;
    // The sections (the bulk) are read only if asked for: a feed entry or a list wants the head alone.
    return Object.assign(
      {
        get sections() {
          return (sections ??= JSON.parse(read(at + headLength, sectionsLength)) as SiteSection[]);
        },
      },
      head,
    ) as unknown as SiteArticle;
  };
}

/** What the site shows of an article: the article without its Markdown body, its blocks without their Markdown and text. */
function siteArticle(article: Article): SiteArticle {
  const { body: _body, sections, ...rest } = article;
  return { ...rest, sections: sections.map(({ blocks, ...section }) => ({ ...section, blocks: blocks.map((block) => ({ html: block.html })) })) };
}

/** Opens a spool in `folder` (made by the caller), written and read synchronously like the records it stands for. */
export function openArticleSpool(folder: string): ArticleSpool {
  const file = path.join(folder, `.article-spool-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  // `wx`: never through a file (or link) that happens to have the name.
  const fd = openSync(file, 'wx+', 0o600);
  unlinkSync(file);
  let end = 0;
  const write = (bytes: Buffer): void => {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, end + done);
    end += bytes.length;
  };
  const rows = new SpoolRows(restorer(fd));
  const keepPacked = ({ id, cache, head, sections }: PackedArticle): IndexedArticle<SiteArticle> => {
    // Its row holds the hash as 32 bytes: anything else would come back as another hash, unnoticed.
    if (!SHA256_HEX.test(cache.contentHash)) throw new Error(`the article spool keeps SHA-256 content hashes, not "${cache.contentHash}"`);
    const at = end;
    try {
      write(Buffer.concat([head, sections]));
    } catch {
      // A spool that cannot grow (a full disk, a file-size limit) only costs memory: this one stays in it.
      end = at;
      return indexArticle(siteArticleOf(head, sections));
    }
    return new SpooledArticle(id, rows.add(cache.published, cache.contentHash, at, head.length, sections.length), rows);
  };
  return {
    keep: (article) => keepPacked(packArticle(article)),
    keepPacked,
    table(entries) {
      const which: number[] = [];
      for (const entry of entries) {
        if (!(entry instanceof SpooledArticle) || entry.rows !== rows) return undefined;
        which.push(entry.row);
      }
      return rows.table(fd, entries.map((entry) => entry.id), which);
    },
    close() {
      closeSync(fd);
    },
  };
}

/**
 * The entries of a spool table, for another thread of the process that opened the spool: read
 * through its descriptor, which stays open while the table is in use (the owner closes the spool
 * only once that thread is done).
 */
export function readSpoolTable(table: SpoolTable): Array<IndexedArticle<SiteArticle>> {
  const rows = SpoolRows.of(table);
  return table.ids.map((id, index) => new SpooledArticle(id, table.rows[index] as number, rows));
}
