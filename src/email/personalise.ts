import type { Briefing, Recipient, TokenField } from './briefing.js';

/** One recipient's copy of the briefing's bodies. */
export interface PersonalisedBriefing {
  html: string;
  text: string;
}

/** Fills one recipient's values into a briefing split once: runs per subscriber, so it only joins strings. */
export type Personaliser = (recipient: Recipient) => PersonalisedBriefing;

/** Bodies cut at their tokens: literal parts around the fields that go between them. */
interface SplitBody {
  parts: string[];
  fields: TokenField[];
}

const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g;
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A value for the bodies: control characters (line breaks included) become spaces. */
function clean(value: string | null): string {
  return (value ?? '').replace(CONTROL, ' ');
}

/** Escapes a value for HTML text or a quoted attribute; the one escaper of personal values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/**
 * Splits the briefing's HTML and text at its tokens once and returns the function that fills them
 * per recipient: values HTML-escaped in the HTML, as they are in the text (control characters
 * removed in both). Only the briefing's own tokens are replaced; they carry a per-render nonce,
 * so token-like text in an article stays text.
 */
export function preparePersonalisation(briefing: Pick<Briefing, 'html' | 'text' | 'replacements'>): Personaliser {
  const fieldOf = new Map(briefing.replacements.map((replacement) => [replacement.token, replacement.field]));
  if (fieldOf.size === 0) {
    const same = { html: briefing.html, text: briefing.text };
    return () => ({ ...same });
  }
  const pattern = new RegExp(`(${[...fieldOf.keys()].map((token) => token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
  const split = (body: string): SplitBody => {
    const pieces = body.split(pattern);
    return {
      parts: pieces.filter((_, index) => index % 2 === 0),
      fields: pieces.filter((_, index) => index % 2 === 1).map((token) => fieldOf.get(token) as TokenField),
    };
  };
  const join = (body: SplitBody, value: (field: TokenField) => string): string => {
    let out = body.parts[0] ?? '';
    for (let index = 0; index < body.fields.length; index += 1) {
      out += value(body.fields[index] as TokenField) + (body.parts[index + 1] ?? '');
    }
    return out;
  };
  const html = split(briefing.html);
  const text = split(briefing.text);
  return (recipient) => {
    const values: Record<TokenField, string> = {
      name: clean(recipient.name),
      address: clean(recipient.address),
      unsubscribeUrl: clean(recipient.unsubscribeUrl),
    };
    const escaped: Record<TokenField, string> = {
      name: escapeHtml(values.name),
      address: escapeHtml(values.address),
      unsubscribeUrl: escapeHtml(values.unsubscribeUrl),
    };
    return { html: join(html, (field) => escaped[field]), text: join(text, (field) => values[field]) };
  };
}

/** One recipient's HTML and text; for many recipients, call preparePersonalisation once instead. */
export function personaliseBriefing(briefing: Pick<Briefing, 'html' | 'text' | 'replacements'>, recipient: Recipient): PersonalisedBriefing {
  return preparePersonalisation(briefing)(recipient);
}
