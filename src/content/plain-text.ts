/**
 * Characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE/U+FFFF; lone surrogates), and
 * the DEL and C1 controls it discourages and HTML forbids (NEL, U+0085, is a line break to some).
 * Text that ends up in feeds and emails must not carry them, so they are removed where text enters.
 */
const XML_ILLEGAL_PATTERN =
  '[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\uFFFE\\uFFFF]|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const XML_ILLEGAL_ALL = new RegExp(XML_ILLEGAL_PATTERN, 'g');
const XML_ILLEGAL_ANY = new RegExp(XML_ILLEGAL_PATTERN);
/** Cheap pre-check: most texts have no control character and no surrogate at all. */
const MAYBE_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uD800-\uDFFF\uFFFE\uFFFF]/;

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

const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;

/**
 * Closes the bidi embeddings and overrides (LRE, RLE, LRO, RLO) and isolates (LRI, RLI, FSI) a
 * one-line field leaves open, so a title with a lone RLO cannot reverse the text a page, feed or
 * email puts after it. PDF closes the innermost embedding, PDI its isolate and what opened inside.
 */
export function closeBidi(text: string): string {
  if (!BIDI_CONTROL.test(text)) return text;
  const closers: string[] = [];
  for (const character of text) {
    if (/[\u202A\u202B\u202D\u202E]/.test(character)) closers.push('\u202C');
    else if (/[\u2066-\u2068]/.test(character)) closers.push('\u2069');
    else if (character === '\u202C' && closers.at(-1) === '\u202C') closers.pop();
    else if (character === '\u2069' && closers.includes('\u2069')) closers.splice(closers.lastIndexOf('\u2069'));
  }
  return text + closers.reverse().join('');
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
