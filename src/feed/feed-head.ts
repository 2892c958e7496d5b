import { Parser } from 'htmlparser2';
import { BriefingError } from '../errors.js';
import { xmlAttributes, xmlElement, xmlEmptyElement, type XmlAddition } from './xml-fragment.js';

/** Where a feed format keeps its entries: Atom `feed > entry`, RSS `channel > item`. */
export interface FeedShape {
  container: string;
  entry: string;
}

/** What the `feed` package cannot write into a document's head. */
export interface FeedHeadAdditions {
  /** Attributes for the root element (namespace declarations, `xml:lang`); ones it already has are kept. */
  rootAttributes: Readonly<Record<string, string>>;
  /** Empty elements to append to the head, after the feed's own metadata and before its first entry. */
  elements: ReadonlyArray<{ name: string; attributes: Readonly<Record<string, string>> }>;
}

interface HeadLocation {
  /** Index of the `>` that ends the root element's start tag. */
  rootTagEnd: number;
  rootAttributes: Record<string, string>;
  /** Index of the `<` of the first entry, or of the container's end tag when there is none. */
  headEnd: number;
}

/**
 * Finds the root start tag and the end of the head with an XML tokenizer, which knows CDATA, comments
 * and attribute values, and stops at the first entry: the entries (most of the bytes) are not read.
 */
function locateHead(xml: string, shape: FeedShape): HeadLocation {
  const open: string[] = [];
  let rootTagEnd = -1;
  let rootAttributes: Record<string, string> = {};
  let headEnd = -1;
  const parser: Parser = new Parser(
    {
      onopentag(name, attributes) {
        if (open.length === 0) {
          rootTagEnd = parser.endIndex;
          rootAttributes = attributes;
        } else if (headEnd < 0 && name === shape.entry && open.at(-1) === shape.container) {
          headEnd = parser.startIndex;
          parser.pause();
        }
        open.push(name);
      },
      onclosetag(name) {
        open.pop();
        if (headEnd < 0 && name === shape.container) {
          headEnd = parser.startIndex;
          parser.pause();
        }
      },
    },
    { xmlMode: true },
  );
  parser.write(xml);
  if (rootTagEnd < 0 || headEnd < 0 || xml[rootTagEnd] !== '>' || xml[rootTagEnd - 1] === '/') {
    throw new BriefingError('feed', 'unexpected-feed-document', `the feed package wrote a document without a <${shape.container}> head`);
  }
  return { rootTagEnd, rootAttributes, headEnd };
}

/**
 * Adds to a document the `feed` package wrote what it has no option for: attributes of the root element
 * and elements of the head (RFC 5005 links, `fh:archive`). The additions are built with escaping from
 * our own values and inserted at positions an XML tokenizer found; the article content is not touched.
 */
export function extendFeedHead(xml: string, shape: FeedShape, additions: FeedHeadAdditions): string {
  const { rootTagEnd, rootAttributes, headEnd } = locateHead(xml, shape);
  const newAttributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(additions.rootAttributes)) {
    const existing = rootAttributes[name];
    if (existing === undefined) {
      newAttributes[name] = value;
    } else if (existing !== value) {
      throw new BriefingError('feed', 'unexpected-feed-document', `the feed package set ${name}="${existing}", expected "${value}"`);
    }
  }
  const lineStart = xml.lastIndexOf('\n', headEnd) + 1;
  const indentation = xml.slice(lineStart, headEnd);
  const separator = `\n${/^[ \t]*$/.test(indentation) ? indentation : ''}`;
  const elements = additions.elements.map((element) => `${xmlEmptyElement(element.name, element.attributes)}${separator}`).join('');
  return `${xml.slice(0, rootTagEnd)}${xmlAttributes(newAttributes)}${xml.slice(rootTagEnd, headEnd)}${elements}${xml.slice(headEnd)}`;
}

/**
 * Adds to each entry of a document the `feed` package wrote what it cannot write itself (enclosures,
 * `atom:updated`, labelled categories): `additions[i]` goes at the end of entry i, built with our own
 * escaping at the position an XML tokenizer found, which knows CDATA, so article content is untouched.
 */
export function extendFeedEntries(xml: string, shape: FeedShape, additions: ReadonlyArray<readonly XmlAddition[]>): string {
  const ends: number[] = [];
  const open: string[] = [];
  const parser = new Parser(
    {
      onopentag(name) {
        open.push(name);
      },
      onclosetag(name) {
        open.pop();
        if (name === shape.entry && open.at(-1) === shape.container) ends.push(parser.startIndex);
      },
    },
    { xmlMode: true },
  );
  parser.end(xml);
  if (ends.length !== additions.length) {
    throw new BriefingError('feed', 'unexpected-feed-document', `the feed package wrote ${ends.length} <${shape.entry}> elements for ${additions.length} entries`);
  }
  let result = '';
  let from = 0;
  ends.forEach((end, index) => {
    const indentation = xml.slice(xml.lastIndexOf('\n', end) + 1, end);
    // Each addition one level deeper than the entry's end tag, which then keeps its own line.
    const pretty = /^[ \t]*$/.test(indentation);
    const inserted = (additions[index] ?? []).map((addition) => (pretty ? `    ${xmlElement(addition)}\n${indentation}` : xmlElement(addition))).join('');
    result += xml.slice(from, end) + inserted;
    from = end;
  });
  return result + xml.slice(from);
}
