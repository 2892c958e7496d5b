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
