import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Article } from './article.js';
import { indexArticle, type IndexedArticle } from './indexed-article.js';

/**
 * Parsed articles kept on disk rather than in memory while a build runs: a full build parses every
 * record once but renders each page from only a few of them at a time, so holding them all would make
 * its memory grow with the number of articles. The file is unlinked as soon as it is opened: it is
 * never seen by anyone else and goes away with the process, however that ends.
 */
export interface ArticleSpool {
  /**
   * Keeps an article; its index entry gives it back, read from the spool each time it is asked for
   * (held in memory should the spool fail).
   */
  keep(article: Article): IndexedArticle;
  close(): void;
}

/** Reads a kept article back from where its parts lie: the article but for its body and sections (with its html), then those. */
type Restore = (at: number, headLength: number, bodyLength: number) => Article;

/**
 * The index entry of a spooled article: its id, publication time, content hash and where it lies,
 * as fields of one small object whose methods are shared. A build keeps one per article (a hundred
 * thousand in a full build of as many), so no closure, context or Date is made per article.
 */
class SpooledArticle implements IndexedArticle {
  readonly #publishedMs: number;

  constructor(
    readonly id: string,
    published: Date,
    readonly contentHash: string,
    private readonly at: number,
    private readonly headLength: number,
    private readonly bodyLength: number,
    private readonly restore: Restore,
  ) {
    this.#publishedMs = published.getTime();
  }

  get published(): Date {
    return new Date(this.#publishedMs);
  }

  article(): Article {
    return this.restore(this.at, this.headLength, this.bodyLength);
  }
}

/** The article as spooled: times as epoch milliseconds, as JSON has no dates. */
function headText(article: Article): string {
  const { body: _body, sections: _sections, ...head } = article;
  return JSON.stringify({ ...head, published: head.published.getTime(), updated: head.updated?.getTime() });
}

/** Opens a spool in `folder` (made by the caller), written and read synchronously like the records it stands for. */
export function openArticleSpool(folder: string): ArticleSpool {
  const file = path.join(folder, `.article-spool-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  // `wx`: never through a file (or link) that happens to have the name.
  const fd = openSync(file, 'wx+', 0o600);
  unlinkSync(file);
  let end = 0;
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
  const write = (bytes: Buffer): void => {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, end + done);
    end += bytes.length;
  };
  const restore: Restore = (at, headLength, bodyLength) => {
    const head = JSON.parse(read(at, headLength)) as Record<string, unknown>;
    head.published = new Date(head.published as number);
    if (head.updated !== undefined) head.updated = new Date(head.updated as number);
    let rest: Pick<Article, 'body' | 'sections'> | undefined;
    const parts = (): Pick<Article, 'body' | 'sections'> => (rest ??= JSON.parse(read(at + headLength, bodyLength)) as Pick<Article, 'body' | 'sections'>);
    // Body and sections (the bulk) are read only if asked for: a feed entry wants the html alone.
    return Object.assign(
      {
        get body() {
          return parts().body;
        },
        get sections() {
          return parts().sections;
        },
      },
      head,
    ) as unknown as Article;
  };
  return {
    keep(article) {
      const head = Buffer.from(headText(article), 'utf8');
      const body = Buffer.from(JSON.stringify({ body: article.body, sections: article.sections }), 'utf8');
      const at = end;
      try {
        write(Buffer.concat([head, body]));
      } catch {
        // A spool that cannot grow (a full disk, a file-size limit) only costs memory: this one stays in it.
        end = at;
        return indexArticle(article);
      }
      return new SpooledArticle(article.id, article.published, article.contentHash, at, head.length, body.length, restore);
    },
    close() {
      closeSync(fd);
    },
  };
}
