import type { Article } from './article.js';

/**
 * An article known at first by what places it among the others and keys its pages; the whole of it is
 * read (from the parse cache, the spool or the record) each time it is asked for, and not kept. A
 * build holds one per article, so what it keeps is small.
 */
export interface IndexedArticle {
  readonly id: string;
  readonly published: Date;
  readonly contentHash: string;
  article(): Article;
}

/** The index entry of an article already loaded in full. */
export function indexArticle(article: Article): IndexedArticle {
  return { id: article.id, published: article.published, contentHash: article.contentHash, article: () => article };
}
