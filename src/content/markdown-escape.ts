/** Characters that start inline Markdown (emphasis, code, links, autolinks, strikethrough, headings). */
const INLINE_SPECIAL = /[\\`*_[\]<~#]/g;
/** An `&` that would start an entity reference such as `&amp;` or `&#65;`. */
const ENTITY_START = /&(?=#?[A-Za-z0-9]+;)/g;

/**
 * Escapes one line of plain text so Markdown renders it as exactly that text: no emphasis, links,
 * entities, lists, quotes or rules appear from characters that happen to be in a news story.
 */
export function escapeMarkdown(text: string): string {
  const escaped = text.replace(INLINE_SPECIAL, '\\$&').replace(ENTITY_START, '\\&');
  if (/^[>+\-=]/.test(escaped)) {
    return `\\${escaped}`;
  }
  return escaped.replace(/^(\d+)([.)])/, '$1\\$2');
}
