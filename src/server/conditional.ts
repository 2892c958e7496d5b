/** What a conditional GET is compared against. */
export interface Validators {
  /** Strong ETag of the representation about to be sent, quoted. */
  etag: string;
  /** ETags of other codings of the same bytes, which a cache may hold instead. */
  sameContent: readonly string[];
  lastModified: Date;
}

/**
 * True when a GET may be answered 304 (RFC 9110 §13.2.2): If-None-Match decides when present
 * (weak comparison), otherwise If-Modified-Since at one-second precision.
 */
export function isNotModified(headers: Headers, validators: Validators): boolean {
  const ifNoneMatch = headers.get('if-none-match');
  if (ifNoneMatch !== null) {
    const known = new Set([validators.etag, ...validators.sameContent]);
    return ifNoneMatch.split(',').some((candidate) => {
      const tag = candidate.trim().replace(/^W\//, '');
      return tag === '*' || known.has(tag);
    });
  }
  const ifModifiedSince = headers.get('if-modified-since');
  if (ifModifiedSince === null) return false;
  const since = Date.parse(ifModifiedSince);
  if (Number.isNaN(since)) return false;
  return Math.floor(validators.lastModified.getTime() / 1000) <= Math.floor(since / 1000);
}
