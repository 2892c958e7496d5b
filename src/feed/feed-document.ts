import type { FeedEntry } from './feed-entry.js';

/** One feed document in one format, ready to serialise: entries plus the links of its place in the archive. */
export interface FeedDocument {
  entries: readonly FeedEntry[];
  /** The newest last change among the entries (the epoch for an empty feed): never the build time. */
  updated: Date;
  /** Absolute URL of this document. */
  self: string;
  /** Absolute URL of the subscription feed of the same format. */
  current: string;
  /** Absolute URL of the archive page with older entries, if any. */
  prevArchive: string | undefined;
  /** Absolute URL of the archive page with newer entries, if this is an archive page and one exists. */
  nextArchive: string | undefined;
  /** True for archive pages (RFC 5005 `fh:archive`). */
  archive: boolean;
}

/** Namespace of RFC 5005's `fh:archive`. */
export const FEED_HISTORY_NAMESPACE = 'http://purl.org/syndication/history/1.0';

/** The RFC 5005 links of a document as `{rel, href}` pairs, in a fixed order. */
export function archiveLinks(document: FeedDocument): Array<{ rel: string; href: string }> {
  const links: Array<{ rel: string; href: string | undefined }> = [
    { rel: 'current', href: document.archive ? document.current : undefined },
    { rel: 'prev-archive', href: document.prevArchive },
    { rel: 'next-archive', href: document.nextArchive },
  ];
  return links.filter((link): link is { rel: string; href: string } => link.href !== undefined);
}
