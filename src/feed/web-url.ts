/**
 * The URL, normalised, when it is an absolute http(s) URL; anything else (`javascript:`, `data:`,
 * relative, garbage) is dropped, so a record can never put a script URL into a link of a page or feed.
 */
export function webUrl(url: string | undefined): string | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
}
