import Handlebars from 'handlebars';

/*
 * The `feed` package serialises with xml-js, which has three habits that would change what a feed
 * says: text has every `&amp;` turned back into `&` before it is escaped (a literal "&amp;" would
 * lose its "amp;"), a CDATA section has only its first `]]>` split (a second one ends the section
 * early and breaks the document), and attribute values get only `"` escaped. These functions prepare
 * values for the fields that `feed` hands to xml-js as they are, so the XML says exactly what we mean.
 */

/** A value `feed` writes as element text without escaping it first (titles, names, ids, language). */
export function asFeedText(value: string): string {
  // xml-js first decodes `&amp;` and then escapes `&`: encoding `&` once here makes that round trip exact.
  return value.replaceAll('&', '&amp;');
}

/** Plain text for a field `feed` marks as HTML (Atom `type="html"`, RSS description): escaped HTML. */
export function asFeedHtmlText(value: string): string {
  // Escaping turns every `>` into `&gt;`, so the CDATA section xml-js wraps it in can never end early.
  return Handlebars.escapeExpression(value);
}

/** Sanitised HTML for a field `feed` wraps in CDATA (content, content:encoded). */
export function asFeedCdataHtml(html: string): string {
  // Outside script and style (which sanitised HTML has none of) `>` and `&gt;` are the same HTML, so
  // writing `]]>` as `]]&gt;` keeps the markup and leaves xml-js no CDATA end to split.
  return html.includes(']]>') ? html.replaceAll(']]>', ']]&gt;') : html;
}
