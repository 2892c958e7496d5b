import type { Briefing, Recipient, TokenField } from './briefing.js';

/** One recipient's copy of the briefing's bodies. */
export interface PersonalisedBriefing {
  html: string;
  text: string;
}

/** Fills one recipient's values into a briefing split once: runs per subscriber, so it only joins strings. */
export type Personaliser = (recipient: Recipient) => PersonalisedBriefing;

/** A body cut at the briefing's tokens: literal parts around the fields that go between them (`parts` has one more). */
export interface SplitBody {
  parts: string[];
  fields: TokenField[];
}

const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g;
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes a value for HTML text or a quoted attribute; the one escaper of personal values. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/**
 * The one token substituter's value: what a recipient's field becomes in a body. Control
 * characters (line breaks included) become spaces; in HTML the value is escaped. The web version,
 * the preview and every delivered message fill their tokens with it.
 */
export function tokenValue(recipient: Recipient, field: TokenField, html: boolean): string {
  const raw = field === 'name' ? (recipient.name ?? '') : recipient[field];
  const value = raw.replace(CONTROL, ' ');
  return html ? escapeHtml(value) : value;
}

/**
 * The one token substituter's cut: returns the function that splits a body at the briefing's own
 * tokens. They carry a per-render nonce, so token-like text in an article stays text.
 */
export function tokenSplitter(briefing: Pick<Briefing, 'replacements'>): (body: string) => SplitBody {
  const fieldOf = new Map(briefing.replacements.map((replacement) => [replacement.token, replacement.field]));
  if (fieldOf.size === 0) return (body) => ({ parts: [body], fields: [] });
  const pattern = new RegExp(`(${[...fieldOf.keys()].map((token) => token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
  return (body) => {
    const pieces = body.split(pattern);
    return {
      parts: pieces.filter((_, index) => index % 2 === 0),
      fields: pieces.filter((_, index) => index % 2 === 1).map((token) => fieldOf.get(token) as TokenField),
    };
  };
}

/**
 * Splits the briefing's HTML and text at its tokens once and returns the function that fills them
 * per recipient with tokenValue: escaped in the HTML, as they are in the text.
 */
export function preparePersonalisation(briefing: Pick<Briefing, 'html' | 'text' | 'replacements'>): Personaliser {
  if (briefing.replacements.length === 0) {
    const same = { html: briefing.html, text: briefing.text };
    return () => ({ ...same });
  }
  const split = tokenSplitter(briefing);
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
    // Each value once per recipient, however many tokens use it.
    const values = (escaped: boolean): Record<TokenField, string> => ({
      name: tokenValue(recipient, 'name', escaped),
      address: tokenValue(recipient, 'address', escaped),
      unsubscribeUrl: tokenValue(recipient, 'unsubscribeUrl', escaped),
      preferencesUrl: tokenValue(recipient, 'preferencesUrl', escaped),
    });
    const plain = values(false);
    const escaped = values(true);
    return { html: join(html, (field) => escaped[field]), text: join(text, (field) => plain[field]) };
  };
}

/** One recipient's HTML and text; for many recipients, call preparePersonalisation once instead. */
export function personaliseBriefing(briefing: Pick<Briefing, 'html' | 'text' | 'replacements'>, recipient: Recipient): PersonalisedBriefing {
  return preparePersonalisation(briefing)(recipient);
}
