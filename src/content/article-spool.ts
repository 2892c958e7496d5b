import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Article } from './article.js';

/**
 * Parsed articles kept on disk rather than in memory while a build runs: a full build parses every
 * record once but renders each page from only a few of them at a time, so holding them all would make
 * its memory grow with the number of articles. The file is unlinked as soon as it is opened: it is
 * never seen by anyone else and goes away with the process, however that ends.
 */
export interface ArticleSpool {
  /** Keeps an article; the function gives it back, read from the spool each time it is called (held in memory should the spool fail). */
  keep(article: Article): () => Article;
  close(): void;
}

/** Where each part of a kept article lies in the spool: the article but for its body and sections (with its html), then those. */
interface Placement {
  at: number;
  headLength: number;
  bodyLength: number;
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
  const restore = (placement: Placement): Article => {
    const head = JSON.parse(read(placement.at, placement.headLength)) as Record<string, unknown>;
    head.published = new Date(head.published as number);
    if (head.updated !== undefined) head.updated = new Date(head.updated as number);
    let rest: Pick<Article, 'body' | 'sections'> | undefined;
    const parts = (): Pick<Article, 'body' | 'sections'> =>
      (rest ??= JSON.parse(read(placement.at + placement.headLength, placement.bodyLength)) as Pick<Article, 'body' | 'sections'>);
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
  // Each closure made by a function of its own: closures made in one scope share what any of them
  // captures, so one that read the spool would also hold the article it stands for (every parsed
  // article was kept alive that way, 17 KB each).
  const spooled = (placement: Placement) => () => restore(placement);
  const held = (article: Article) => () => article;
  return {
    keep(article) {
      const head = Buffer.from(headText(article), 'utf8');
      const body = Buffer.from(JSON.stringify({ body: article.body, sections: article.sections }), 'utf8');
      const placement: Placement = { at: end, headLength: head.length, bodyLength: body.length };
      try {
        write(Buffer.concat([head, body]));
      } catch {
        // A spool that cannot grow (a full disk, a file-size limit) only costs memory: this one stays in it.
        end = placement.at;
        return held(article);
      }
      return spooled(placement);
    },
    close() {
      closeSync(fd);
    },
  };
}
