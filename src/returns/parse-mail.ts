import { simpleParser, type Headers, type ParsedMail, type SimpleParserOptions } from 'mailparser';

/**
 * mailparser, bounded for hostile mail, and the few ways returned mail is read from what it gives:
 * header values as text or addresses, and the field groups of a report part (RFC 3464, RFC 5965).
 */

/** Options mailparser passes on to its MIME splitter (mailsplit), which its types do not list. */
interface SplitterBounds {
  /** Keep message/rfc822 parts whole, as parts, so the returned original's headers can be read. */
  ignoreEmbedded: boolean;
  maxHeadSize: number;
  maxChildNodes: number;
}

const OPTIONS: SimpleParserOptions & SplitterBounds = {
  // Report parts as parts, not merged into the text.
  keepDeliveryStatus: true,
  // No HTML or link work: returned mail is read for its structure, never shown.
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  ignoreEmbedded: true,
  // A header bomb or a part bomb ends the parse: 256 KB of header per part, 200 parts.
  maxHeadSize: 256 * 1024,
  maxChildNodes: 200,
};

/** A report part's field groups read at most: the per-message group and this many recipients' less one. */
const MAX_FIELD_GROUPS = 100;
const CONTROLS = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]+/gu;

/** Text from mail as one line: control characters and bidi overrides gone, white space folded, at most `max` characters. */
export function oneLine(text: string, max: number): string {
  const line = text.replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();
  const characters = [...line];
  return characters.length > max ? `${characters.slice(0, max - 1).join('')}…` : line;
}

/** The parsed message, or why it could not be parsed (one line). Never throws. */
export async function parseMail(raw: Buffer): Promise<ParsedMail | string> {
  try {
    return await simpleParser(raw, OPTIONS);
  } catch (error) {
    return `malformed MIME: ${oneLine(error instanceof Error ? error.message : String(error), 160)}`;
  }
}

/** The first text value of a header (lower-case name), if it has one. */
export function headerText(headers: Headers, name: string): string | undefined {
  const value: unknown = headers.get(name);
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/** Every address a header names, in order: parsed address lists (groups too) or plain `a@b` / `<a@b>` text. */
export function headerAddresses(headers: Headers, name: string): string[] {
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'string') found.push(value.trim().replace(/^<(.*)>$/, '$1'));
    else if (typeof value === 'object' && value !== null) {
      const record = value as { value?: unknown; address?: unknown; group?: unknown };
      if (typeof record.address === 'string') found.push(record.address);
      visit(record.group);
      visit(record.value);
    }
  };
  visit(headers.get(name));
  return found;
}

/** The address of the mailto: in List-Unsubscribe (mailparser reads it into `list`), without its query. */
export function listUnsubscribeMailbox(headers: Headers): string | undefined {
  const list: unknown = headers.get('list');
  const mail = (list as { unsubscribe?: { mail?: unknown } } | undefined)?.unsubscribe?.mail;
  if (typeof mail !== 'string') return undefined;
  try {
    return decodeURIComponent(new URL(`mailto:${mail}`).pathname);
  } catch {
    return undefined;
  }
}

/**
 * The field groups of a report part (RFC 3464 per-message and per-recipient fields, RFC 5965
 * feedback fields): blocks of header fields separated by blank lines, each parsed by mailparser.
 * Only the first groups are read, so a report of 10,000 recipients costs no more than one of 100.
 */
export async function readFieldGroups(content: Buffer): Promise<Headers[]> {
  const blocks: string[][] = [[]];
  for (const line of content.toString('utf8').split(/\r?\n/)) {
    if (line.trim() !== '') blocks.at(-1)?.push(line);
    else if (blocks.at(-1)?.length !== 0) {
      if (blocks.length === MAX_FIELD_GROUPS) break;
      blocks.push([]);
    }
  }
  const groups: Headers[] = [];
  for (const block of blocks.filter((lines) => lines.length > 0)) {
    const parsed = await parseMail(Buffer.from(`${block.join('\r\n')}\r\n\r\n`, 'utf8'));
    if (typeof parsed !== 'string') groups.push(parsed.headers);
  }
  return groups;
}
