/**
 * Reads HTML and feeds the way a browser or a feed reader does (htmlparser2, a real HTML5-style
 * tokenizer) and lists what hostile content could have turned into markup: active elements, event
 * handlers, URLs with a scheme other than http, https or mailto, markup inside a feed's XML tree.
 */
import type { ChildNode, Element, Text } from 'domhandler';
import { DomUtils, parseDocument } from 'htmlparser2';

/** Elements that run code, load frames or restyle the page; none may come from content. */
const ACTIVE = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'base', 'style', 'link', 'meta', 'form', 'button', 'input', 'textarea', 'select', 'template', 'noscript', 'xmp', 'plaintext']);
/** What a trusted page template may carry in its head (and the home page its one subscribe form). */
const TEMPLATE_ONLY = new Set(['style', 'link', 'meta', 'form', 'input', 'button']);
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'background', 'cite', 'data', 'srcset', 'longdesc', 'manifest', 'ping']);
const SAFE_URL = /^(?:https?:|mailto:|[^:]*$)/i;

/** How much of the document our own templates wrote. */
export interface MarkupOptions {
  /** A whole page from our templates: head elements and the subscribe form are ours, not content's. */
  page?: boolean;
}

/** Findings in an HTML document or fragment; empty when nothing hostile became markup. */
export function unsafeMarkup(html: string, options: MarkupOptions = {}): string[] {
  const findings: string[] = [];
  const document = parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  for (const element of DomUtils.findAll(() => true, document.children) as Element[]) {
    const name = element.name;
    const inHead = DomUtils.getParent(element)?.type === 'tag' && (DomUtils.getParent(element) as Element).name === 'head';
    const templateForm = options.page && (name === 'form' || name === 'input' || name === 'button') && !/XSS/i.test(DomUtils.getOuterHTML(element));
    if (ACTIVE.has(name) && !(options.page && TEMPLATE_ONLY.has(name) && (inHead || templateForm))) findings.push(`<${name}> element`);
    for (const [attribute, value] of Object.entries(element.attribs)) {
      if (/^on/i.test(attribute)) findings.push(`<${name} ${attribute}=…> event handler`);
      if (attribute === 'style' && /XSS|expression|url\(/i.test(value)) findings.push(`<${name} style="${value.slice(0, 40)}">`);
      // Browsers ignore tabs, line breaks and leading control characters in a URL's scheme.
      const url = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
      if (URL_ATTRIBUTES.has(attribute) && !SAFE_URL.test(url)) findings.push(`<${name} ${attribute}="${value.slice(0, 40)}"> unsafe URL`);
    }
  }
  return findings;
}

/** The elements of an XML feed whose text is HTML (Atom type="html", RSS description, content:encoded). */
const HTML_CARRIERS = new Set(['description', 'content:encoded']);
/** HTML element names that must never appear in a feed's own XML tree (they would be hostile tags gone raw). */
const HTML_NAMES = new Set(['script', 'img', 'svg', 'iframe', 'a', 'b', 'i', 'p', 'span', 'div', 'style', 'math', 'form', 'button', 'object', 'embed']);

/** Findings in an RSS or Atom document: markup in the XML tree, or hostile markup inside its HTML fields. */
export function unsafeFeed(xml: string): string[] {
  const findings: string[] = [];
  const document = parseDocument(xml, { xmlMode: true, decodeEntities: true });
  for (const element of DomUtils.findAll(() => true, document.children as ChildNode[]) as Element[]) {
    if (HTML_NAMES.has(element.name.toLowerCase())) findings.push(`<${element.name}> in the feed's XML tree`);
    const carriesHtml = HTML_CARRIERS.has(element.name) || element.attribs.type === 'html';
    if (carriesHtml) findings.push(...unsafeMarkup(DomUtils.textContent(element)).map((finding) => `${element.name}: ${finding}`));
    if (element.attribs.type === 'xhtml') findings.push(`${element.name}: XHTML content`);
  }
  return findings;
}

/** Findings in a JSON Feed: hostile markup in content_html or summary HTML of any item. */
export function unsafeJsonFeed(json: string): string[] {
  const feed = JSON.parse(json) as { items?: Array<{ id?: string; content_html?: string }> };
  return (feed.items ?? []).flatMap((item) => unsafeMarkup(item.content_html ?? '').map((finding) => `item ${item.id}: ${finding}`));
}

/** Elements that end a bidi paragraph: an override left open inside them stops at their end. */
const BLOCKS = new Set(['html', 'head', 'title', 'body', 'p', 'div', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'td', 'th', 'tr', 'table', 'tbody', 'thead', 'blockquote', 'pre', 'figure', 'figcaption', 'section', 'article', 'header', 'footer', 'main', 'nav', 'dd', 'dt', 'dl', 'br', 'hr', 'center']);
const OPENERS = /[\u202a-\u202e\u2066-\u2068]/;

/** Open explicit embeddings, overrides and isolates a text leaves for what follows it. */
function openBidi(text: string): number {
  let embeddings = 0;
  let isolates = 0;
  for (const character of text) {
    if (/[\u202a-\u202e]/.test(character)) embeddings += 1;
    else if (character === '\u202c') embeddings = Math.max(0, embeddings - 1);
    else if (/[\u2066-\u2068]/.test(character)) isolates += 1;
    else if (character === '\u2069') isolates = Math.max(0, isolates - 1);
  }
  return embeddings + isolates;
}

/**
 * Places where a field that leaves a bidi override (U+202A–E) or isolate (U+2066–8) open is
 * followed, in the same block, by more text (the template's or another field's) before the
 * override is closed: that text would be shown reversed or reordered.
 */
export function bidiLeaks(html: string, fields: readonly string[]): string[] {
  const open = fields.filter((field) => openBidi(field) > 0).map((field) => field.trim().slice(-12));
  if (open.length === 0 || !OPENERS.test(html)) return [];
  const leaks: string[] = [];
  const document = parseDocument(html, { decodeEntities: true });
  const texts = DomUtils.findAll(() => true, document.children).flatMap((element) => element.children.filter((child): child is Text => child.type === 'text'));
  const blockOf = (node: ChildNode): Element | null => {
    let parent = node.parent as Element | null;
    while (parent && !BLOCKS.has(parent.name)) parent = parent.parent as Element | null;
    return parent;
  };
  texts.forEach((text, index) => {
    for (const tail of open) {
      for (let at = text.data.indexOf(tail); at !== -1; at = text.data.indexOf(tail, at + 1)) {
        const block = blockOf(text);
        const rest = text.data.slice(at + tail.length) + texts.slice(index + 1, index + 50).filter((next) => blockOf(next) === block).map((next) => next.data).join('');
        // Closed at once (the field was balanced on its way out), or nothing follows: no leak.
        if (/^\s*[\u202c\u2069]/.test(rest) || rest.trim() === '') continue;
        leaks.push(`…${JSON.stringify(tail)} runs on into ${JSON.stringify(rest.trim().slice(0, 30))}`);
      }
    }
  });
  return leaks;
}
