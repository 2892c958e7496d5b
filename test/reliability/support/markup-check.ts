/**
 * Reads HTML and feeds the way a browser or a feed reader does (htmlparser2, a real HTML5-style
 * tokenizer) and lists what hostile content could have turned into markup: active elements, event
 * handlers, URLs with a scheme other than http, https or mailto, markup inside a feed's XML tree.
 */
import type { ChildNode, Element } from 'domhandler';
import { DomUtils, parseDocument } from 'htmlparser2';

/** Elements that run code, load frames or restyle the page; none may come from content. */
const ACTIVE = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'base', 'style', 'link', 'meta', 'form', 'button', 'input', 'textarea', 'select', 'template', 'noscript', 'xmp', 'plaintext']);
/** What a trusted page template may carry in its head (and the home page its one subscribe form). */
const TEMPLATE_ONLY = new Set(['style', 'link', 'meta', 'form', 'input', 'button']);
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'poster', 'background', 'cite', 'data', 'srcset', 'longdesc', 'manifest', 'ping']);
const SAFE_URL = /^(?:https?:|mailto:|[^:]*$)/i;

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
