import { randomBytes } from 'node:crypto';
import type { Extension } from 'feed';
import Handlebars from 'handlebars';
import { Parser } from 'htmlparser2';
import { stripXmlIllegal } from '../content/plain-text.js';
import { BriefingError } from '../errors.js';

/*
 * The one place that corrects the `feed` package (6.0.0), which stays the writer of the three formats.
 * Each correction answers one quirk, and test/feed/feed-package-quirks.test.ts checks that the bare
 * package still has it: when an upgrade fixes one, its test fails and the correction here goes.
 *
 * `feed` serialises with xml-js, which (1) turns every `&amp;` of a text back into `&` before it
 * escapes it, (2) splits only the first `]]>` of a CDATA section and (3) escapes only `"` in an
 * attribute value. `feed` (4) marks Atom titles and summaries as HTML and (5) writes RSS titles as
 * CDATA; it (6) writes a JSON Feed member only as an extension, (7) writes an RSS item's extensions but
 * ignores an Atom entry's, guesses an enclosure's type from its file name and allows one per item, and
 * (8) has no option for attributes of the root element (`xml:lang`, namespaces) nor for more links in
 * the head (RFC 5005), and writes an RSS channel's extensions after the items. In RSS it (9) writes
 * `published` over `date` as the one pubDate and an author as `<author>` (which wants an address):
 * rss-document.ts adds `atom:updated` and `dc:creator` as item extensions.
 */

/** A value `feed` writes as element text without escaping it first (titles, names, ids, language). */
export function asFeedText(value: string): string {
  // Quirk 1: xml-js first decodes `&amp;` and then escapes `&`; encoding `&` once here makes that round trip exact.
  return value.replaceAll('&', '&amp;');
}

/** Plain text for a field `feed` marks as HTML (quirk 4: Atom `type="html"`; RSS description): escaped HTML. */
export function asFeedHtmlText(value: string): string {
  // Escaping turns every `>` into `&gt;`, so the CDATA section xml-js wraps it in can never end early (quirk 2).
  return Handlebars.escapeExpression(value);
}

/** Sanitised HTML for a field `feed` wraps in CDATA (content, content:encoded). */
export function asFeedCdataHtml(html: string): string {
  // Quirk 2: outside script and style (which sanitised HTML has none of) `>` and `&gt;` are the same
  // HTML, so writing `]]>` as `]]&gt;` keeps the markup and leaves xml-js no CDATA end to split.
  return html.includes(']]>') ? html.replaceAll(']]>', ']]&gt;') : html;
}

/**
 * Article contents kept out of `feed` while it writes a document and put in afterwards. xml-js joins
 * every string at each level of nesting (item, channel, document), so a 5 KB content costs a copy at
 * each level, and these contents are most of a document's bytes: with a short placeholder in its
 * place, `feed` writes the same document at about half the cost. In XML each placeholder stands in
 * CDATA, where xml-js writes it as given, and is replaced by exactly what xml-js would have written
 * for the content (`asFeedCdataHtml` leaves no `]]>` for it to split); in JSON it is a string,
 * replaced by the content as JSON.stringify writes it. So the bytes are the same.
 */
export interface HeldContents {
  /** What to give `feed` as an item's content: a placeholder for this HTML (none for none). */
  hold(html: string): string;
  /**
   * The UTF-8 bytes of the document `feed` wrote (and anything done to it since) with every
   * placeholder replaced by its content, in order.
   */
  place(document: string): Buffer;
}

/** How `feed` writes a content: in an XML document as CDATA, in a JSON Feed as a string. */
export type ContentForm = 'cdata' | 'json';

/** Starts holding back the contents of one document of the given form. */
export function holdContents(form: ContentForm): HeldContents {
  // Random per document: no article can contain it by chance, nor by design.
  const tag = `briefing-content-${randomBytes(9).toString('base64url')}-`;
  const contents: string[] = [];
  const [open, close] = form === 'cdata' ? ['<![CDATA[', ']]>'] : ['"', '"'];
  return {
    hold(html) {
      // feed leaves out an empty content: there is nothing to hold.
      if (html === '') return '';
      contents.push(form === 'cdata' ? `${open}${asFeedCdataHtml(html)}${close}` : JSON.stringify(html));
      return `${tag}${contents.length - 1}`;
    },
    place(document) {
      const pieces: string[] = [];
      const between = (text: string): void => {
        // A placeholder left in what feed wrote around the contents: it wrote one twice.
        if (text.includes(tag)) throw unexpectedDocument('wrote a content twice');
        pieces.push(text);
      };
      let from = 0;
      contents.forEach((content, index) => {
        const placeholder = `${open}${tag}${index}${close}`;
        const at = document.indexOf(placeholder, from);
        if (at < 0) throw unexpectedDocument(`did not write content ${index + 1} of ${contents.length} as ${form === 'cdata' ? 'CDATA' : 'a string'}`);
        between(document.slice(from, at));
        pieces.push(content);
        from = at + placeholder.length;
      });
      between(document.slice(from));
      return utf8Pieces(pieces);
    },
  };
}

function unexpectedDocument(what: string): BriefingError {
  return new BriefingError('feed', 'unexpected-feed-document', `the feed package ${what}`);
}

/**
 * The pieces' UTF-8 bytes, one after the other, encoded piece by piece into one buffer rather than
 * joined first: the joined document would be one string of up to hundreds of kilobytes (two bytes a
 * character as soon as one is beyond Latin-1, as a dash in the publication's description is), which
 * V8 allocates as a large object (and the joining widens every one-byte piece). Made and encoded that
 * way, the 1,000 XML feed pages of 77 KB of a 10,000-article build took some 0.9 s; piece by piece, a
 * third of that.
 */
function utf8Pieces(pieces: readonly string[]): Buffer {
  const lengths = pieces.map((piece) => Buffer.byteLength(piece, 'utf8'));
  const bytes = Buffer.allocUnsafe(lengths.reduce((sum, length) => sum + length, 0));
  let at = 0;
  pieces.forEach((piece, index) => {
    bytes.write(piece, at, 'utf8');
    at += lengths[index] as number;
  });
  return bytes;
}

/** A JSON Feed member `feed` has no option for (quirk 6), or an RSS item element: `feed` assigns any value, its type says objects only. */
export function feedExtension(name: string, value: unknown): Extension {
  // Going through feed's object keeps JSON.stringify the only serialiser (parsing and re-serialising its output doubled the time).
  return { name, objects: value as Extension['objects'] };
}

/** One element `feed` cannot write as we need it: attributes, and text or text-only children. */
export interface XmlElement {
  name: string;
  attributes: Readonly<Record<string, string>>;
  text?: string;
  children?: ReadonlyArray<{ name: string; text: string }>;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  // Character references keep white space that attribute normalisation would turn into spaces.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Escapes the given characters of a value, dropping XML-illegal characters. */
function escapeXml(value: string, characters: RegExp): string {
  return stripXmlIllegal(value).replace(characters, (character) => ESCAPES[character] ?? character);
}

const escapeAttribute = (value: string): string => escapeXml(value, /[&<>"\t\n\r]/g);
const escapeText = (value: string): string => escapeXml(value, /[&<>]/g);

function xmlAttributes(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
    .join('');
}

/** The element as XML, every value escaped; names are the caller's constants. */
function xmlElement(element: XmlElement): string {
  const children = element.children ?? [];
  if (children.length === 0 && element.text === undefined) return `<${element.name}${xmlAttributes(element.attributes)}/>`;
  const inner = escapeText(element.text ?? '') + children.map((child) => `<${child.name}>${escapeText(child.text)}</${child.name}>`).join('');
  return `<${element.name}${xmlAttributes(element.attributes)}>${inner}</${element.name}>`;
}

/** The element as the xml-js object `feed` writes an RSS item extension with, escaped ahead of xml-js (quirks 1 and 3). */
function xmlJsObject(element: XmlElement): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (Object.keys(element.attributes).length > 0) {
    // xml-js escapes `"` itself: everything else is escaped here.
    object._attributes = Object.fromEntries(Object.entries(element.attributes).map(([name, value]) => [name, escapeXml(value, /[&<>\t\n\r]/g)]));
  }
  if (element.text !== undefined) object._text = asFeedText(stripXmlIllegal(element.text));
  for (const child of element.children ?? []) object[child.name] = { _text: asFeedText(stripXmlIllegal(child.text)) };
  return object;
}

/**
 * RSS item elements as `feed` item extensions (quirk 7: it writes them in RSS): one extension per
 * name, in order of first appearance; an extension named like one of its own elements (`title`)
 * replaces that element where it stands.
 */
export function rssItemExtensions(elements: readonly XmlElement[]): Extension[] {
  const byName = new Map<string, Array<Record<string, unknown>>>();
  for (const element of elements) byName.set(element.name, [...(byName.get(element.name) ?? []), xmlJsObject(element)]);
  return [...byName].map(([name, objects]) => feedExtension(name, objects.length === 1 ? objects[0] : objects));
}

/** Where a feed format keeps its entries: Atom `feed > entry`, RSS `channel > item`. */
export interface FeedShape {
  container: string;
  entry: string;
}

/** What `feed` cannot write into a document it wrote (quirks 7 and 8). */
export interface FeedDocumentAdditions {
  /** Attributes for the root element (namespace declarations, `xml:lang`); ones it already has must agree. */
  rootAttributes: Readonly<Record<string, string>>;
  /** Elements for the head, after the feed's own metadata and before its first entry. */
  head: readonly XmlElement[];
  /** Elements for the end of each entry, `entries[i]` for entry i; absent when there are none. */
  entries?: ReadonlyArray<readonly XmlElement[]>;
}

interface DocumentPositions {
  /** Index of the `>` that ends the root element's start tag. */
  rootTagEnd: number;
  rootAttributes: Record<string, string>;
  /** Index of the `<` of the first entry, or of the container's end tag when there is none. */
  headEnd: number;
  /** Index of the `<` of each entry's end tag; not read when `readEntries` is false. */
  entryEnds: number[];
}

/**
 * Finds where additions go with an XML tokenizer, which knows CDATA, comments and attribute values.
 * Without entry additions it stops at the first entry: the entries (most of the bytes) are not read.
 */
function locate(xml: string, shape: FeedShape, readEntries: boolean): DocumentPositions {
  const open: string[] = [];
  const positions: DocumentPositions = { rootTagEnd: -1, rootAttributes: {}, headEnd: -1, entryEnds: [] };
  const endHead = (): void => {
    if (positions.headEnd >= 0) return;
    positions.headEnd = parser.startIndex;
    if (!readEntries) parser.pause();
  };
  const parser: Parser = new Parser(
    {
      onopentag(name, attributes) {
        if (open.length === 0) {
          positions.rootTagEnd = parser.endIndex;
          positions.rootAttributes = attributes;
        } else if (name === shape.entry && open.at(-1) === shape.container) {
          endHead();
        }
        open.push(name);
      },
      onclosetag(name) {
        open.pop();
        if (name === shape.container) endHead();
        if (name === shape.entry && open.at(-1) === shape.container) positions.entryEnds.push(parser.startIndex);
      },
    },
    { xmlMode: true },
  );
  if (readEntries) parser.end(xml);
  else parser.write(xml);
  const { rootTagEnd, headEnd } = positions;
  if (rootTagEnd < 0 || headEnd < 0 || xml[rootTagEnd] !== '>' || xml[rootTagEnd - 1] === '/') {
    throw unexpectedDocument(`wrote a document without a <${shape.container}> head`);
  }
  return positions;
}

/** The white space before `index` on its line, when only white space precedes it there. */
function indentationAt(xml: string, index: number): string | undefined {
  const indentation = xml.slice(xml.lastIndexOf('\n', index) + 1, index);
  return /^[ \t]*$/.test(indentation) ? indentation : undefined;
}

/**
 * Adds to a document `feed` wrote what it has no option for: root attributes, head elements and entry
 * elements, built with our own escaping and inserted where an XML tokenizer found the places, so the
 * article content it wrote is not touched.
 */
export function completeFeedDocument(xml: string, shape: FeedShape, additions: FeedDocumentAdditions): string {
  const entries = additions.entries;
  const { rootTagEnd, rootAttributes, headEnd, entryEnds } = locate(xml, shape, entries !== undefined);
  const newAttributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(additions.rootAttributes)) {
    const existing = rootAttributes[name];
    if (existing === undefined) {
      newAttributes[name] = value;
    } else if (existing !== value) {
      throw unexpectedDocument(`set ${name}="${existing}", expected "${value}"`);
    }
  }
  if (entries !== undefined && entryEnds.length !== entries.length) {
    throw unexpectedDocument(`wrote ${entryEnds.length} <${shape.entry}> elements for ${entries.length} entries`);
  }
  const separator = `\n${indentationAt(xml, headEnd) ?? ''}`;
  const insertions: Array<[number, string]> = [
    [rootTagEnd, xmlAttributes(newAttributes)],
    [headEnd, additions.head.map((element) => `${xmlElement(element)}${separator}`).join('')],
    ...entryEnds.map((end, index): [number, string] => {
      const indentation = indentationAt(xml, end);
      // Each addition one level deeper than the entry's end tag, which then keeps its own line.
      const inserted = (entries?.[index] ?? []).map((element) => (indentation === undefined ? xmlElement(element) : `    ${xmlElement(element)}\n${indentation}`));
      return [end, inserted.join('')];
    }),
  ];
  let result = '';
  let from = 0;
  for (const [at, text] of insertions) {
    result += xml.slice(from, at) + text;
    from = at;
  }
  return result + xml.slice(from);
}
