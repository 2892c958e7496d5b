import path from 'node:path';

/** How a served file is labelled and whether it is worth compressing. */
export interface MediaType {
  contentType: string;
  compressible: boolean;
}

const BY_EXTENSION: Readonly<Record<string, MediaType>> = {
  '.html': { contentType: 'text/html; charset=utf-8', compressible: true },
  '.css': { contentType: 'text/css; charset=utf-8', compressible: true },
  '.txt': { contentType: 'text/plain; charset=utf-8', compressible: true },
  '.xml': { contentType: 'application/xml; charset=utf-8', compressible: true },
  '.xsl': { contentType: 'application/xslt+xml; charset=utf-8', compressible: true },
  '.json': { contentType: 'application/json; charset=utf-8', compressible: true },
  '.eml': { contentType: 'message/rfc822', compressible: true },
  '.svg': { contentType: 'image/svg+xml', compressible: true },
  '.ico': { contentType: 'image/x-icon', compressible: true },
  '.png': { contentType: 'image/png', compressible: false },
  '.jpg': { contentType: 'image/jpeg', compressible: false },
  '.jpeg': { contentType: 'image/jpeg', compressible: false },
  '.gif': { contentType: 'image/gif', compressible: false },
  '.webp': { contentType: 'image/webp', compressible: false },
  '.avif': { contentType: 'image/avif', compressible: false },
  '.woff2': { contentType: 'font/woff2', compressible: false },
};

const OCTET_STREAM: MediaType = { contentType: 'application/octet-stream', compressible: false };

/**
 * The media type of a file in output/. Feeds are told apart by their content, not their name, so the
 * archive feeds (whatever the build calls them) get `application/rss+xml`, `application/atom+xml` and
 * `application/feed+json` like the subscription feeds do.
 */
export function mediaTypeOf(file: string, head: Buffer): MediaType {
  const extension = path.extname(file).toLowerCase();
  const known = BY_EXTENSION[extension] ?? OCTET_STREAM;
  const start = head.subarray(0, 4096).toString('utf8');
  if (extension === '.xml') {
    if (/<rss[\s>]/.test(start)) return { contentType: 'application/rss+xml; charset=utf-8', compressible: true };
    if (/<feed[\s>]/.test(start) && start.includes('http://www.w3.org/2005/Atom')) {
      return { contentType: 'application/atom+xml; charset=utf-8', compressible: true };
    }
  }
  if (extension === '.json' && /"version"\s*:\s*"https:\/\/jsonfeed\.org\/version\/1(\.1)?"/.test(start)) {
    return { contentType: 'application/feed+json; charset=utf-8', compressible: true };
  }
  return known;
}
