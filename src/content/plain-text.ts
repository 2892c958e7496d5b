/**
 * Characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE/U+FFFF; lone surrogates).
 * Text that ends up in feeds and emails must not carry them, so they are removed where text enters.
 */
const XML_ILLEGAL_PATTERN =
  '[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\uFFFE\\uFFFF]|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const XML_ILLEGAL_ALL = new RegExp(XML_ILLEGAL_PATTERN, 'g');
const XML_ILLEGAL_ANY = new RegExp(XML_ILLEGAL_PATTERN);
/** Cheap pre-check: most texts have no control character and no surrogate at all. */
const MAYBE_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Any control character (C0, DEL, C1), line breaks and tabs included: none belongs in a one-line field. */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** Removes the characters XML cannot carry, keeping tabs and line breaks. */
export function stripXmlIllegal(text: string): string {
  return MAYBE_ILLEGAL.test(text) ? text.replace(XML_ILLEGAL_ALL, '') : text;
}

/** True when a one-line field (a title) holds a control character or an XML-illegal one. */
export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text) || (MAYBE_ILLEGAL.test(text) && XML_ILLEGAL_ANY.test(text));
}

/** White space other than single inner spaces. */
const NEEDS_COLLAPSE = /^\s|\s$|\s\s|[^\S ]/;

/** Collapses runs of white space (line breaks included) to single spaces and trims. */
export function collapseWhitespace(text: string): string {
  return NEEDS_COLLAPSE.test(text) ? text.replace(/\s+/g, ' ').trim() : text;
}

/**
 * Shortens text to at most `limit` characters (code points) on a word boundary, adding an ellipsis,
 * so a summary derived from a long lede stays a teaser instead of ending in a cut word.
 */
export function shortenOnWord(text: string, limit: number): string {
  const chars = Array.from(collapseWhitespace(text));
  if (chars.length <= limit) {
    return chars.join('');
  }
  const cut = chars.slice(0, limit - 1).join('');
  const space = cut.lastIndexOf(' ');
  const head = space > cut.length / 2 ? cut.slice(0, space) : cut;
  return `${head.replace(/[\s,;:.!?\-–—]+$/u, '')}…`;
}
