import { stripXmlIllegal } from '../content/plain-text.js';

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  // Character references keep white space that attribute normalisation would turn into spaces.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Escapes an attribute value completely (markup, quotes, white space), dropping XML-illegal characters. */
function escapeXmlAttribute(value: string): string {
  return stripXmlIllegal(value).replace(/[&<>"\t\n\r]/g, (character) => ATTRIBUTE_ESCAPES[character] ?? character);
}

/** ` name="value"` for each attribute, values escaped; names are the caller's constants. */
export function xmlAttributes(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${escapeXmlAttribute(value)}"`)
    .join('');
}

/** An element with attributes and no content, e.g. `<atom:link rel="current" href="…"/>`. */
export function xmlEmptyElement(name: string, attributes: Readonly<Record<string, string>>): string {
  return `<${name}${xmlAttributes(attributes)}/>`;
}

/** One element to add to a feed document: attributes, and text content when it has any. */
export interface XmlAddition {
  name: string;
  attributes: Readonly<Record<string, string>>;
  /** Text content (e.g. of `atom:updated`). */
  text?: string;
  /** Child elements with text only (e.g. `media:description`). */
  children?: ReadonlyArray<{ name: string; text: string }>;
}

/** Escapes element text (markup characters), dropping XML-illegal characters. */
function escapeXmlText(value: string): string {
  return stripXmlIllegal(value).replace(/[&<>]/g, (character) => ATTRIBUTE_ESCAPES[character] ?? character);
}

/** An element with attributes and text or text-only children, all escaped; names are the caller's constants. */
export function xmlElement(addition: XmlAddition): string {
  const children = addition.children ?? [];
  if (children.length === 0 && addition.text === undefined) return xmlEmptyElement(addition.name, addition.attributes);
  const inner = escapeXmlText(addition.text ?? '') + children.map((child) => `<${child.name}>${escapeXmlText(child.text)}</${child.name}>`).join('');
  return `<${addition.name}${xmlAttributes(addition.attributes)}>${inner}</${addition.name}>`;
}
