import type { Article, SiteArticle } from './article.js';

/**
 * An article known at first by what places it among the others and keys its pages; the whole of it is
 * read (from the parse cache, the spool or the record) each time it is asked for, and not kept. A
 * build holds one per article, so what it keeps is small. `A` is what is read: the whole article, or
 * what the site shows of it.
 */
export interface IndexedArticle<A extends SiteArticle = Article> {
  readonly id: string;
  readonly published: Date;
  readonly contentHash: string;
  article(): A;
}

/** The index entry of an article already loaded (whole, or what the site shows of it). */
export function indexArticle<A extends SiteArticle>(article: A): IndexedArticle<A> {
  return { id: article.id, published: article.published, contentHash: article.contentHash, article: () => article };
}
