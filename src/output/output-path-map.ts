import { articleIdOfPagePath } from './site-paths.js';

/**
 * Values by output path (relative to output/), each article page held by its article's id. A plan
 * looks up every article page's key and file at every build; by id it does so without making the
 * page's path, a string to build and hash per article (a tenth of a rebuild after one edit of ten
 * thousand articles).
 */
export class OutputPathMap<V> {
  constructor(
    /** Article pages, by article id. */
    readonly articlePages = new Map<string, V>(),
    /** Every other file, by path. */
    readonly others = new Map<string, V>(),
  ) {}

  static of<V>(entries: Iterable<readonly [string, V]>): OutputPathMap<V> {
    const map = new OutputPathMap<V>();
    for (const [path, value] of entries) map.set(path, value);
    return map;
  }

  /** A map sent to another thread, which gets its two maps (copies of its own) but not its class. */
  static revive<V>(sent: { articlePages: Map<string, V>; others: Map<string, V> }): OutputPathMap<V> {
    return new OutputPathMap(sent.articlePages, sent.others);
  }

  set(path: string, value: V): this {
    const id = articleIdOfPagePath(path);
    if (id === undefined) this.others.set(path, value);
    else this.articlePages.set(id, value);
    return this;
  }

  get(path: string): V | undefined {
    const id = articleIdOfPagePath(path);
    return id === undefined ? this.others.get(path) : this.articlePages.get(id);
  }

  has(path: string): boolean {
    const id = articleIdOfPagePath(path);
    return id === undefined ? this.others.has(path) : this.articlePages.has(id);
  }

  copy(): OutputPathMap<V> {
    const copy = new OutputPathMap<V>();
    for (const [id, value] of this.articlePages) copy.articlePages.set(id, value);
    for (const [path, value] of this.others) copy.others.set(path, value);
    return copy;
  }
}
