import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import { BriefingError } from '../errors.js';

/** Values a subject or preheader template may use. */
export interface LineValues {
  /** The publication's title. */
  title: string;
  /** The edition's date written out in the publication's language, e.g. "Wednesday 23 July 2025". */
  date: string;
  /** The topics of the edition (their short titles) joined as a list, e.g. "peace talks and protests". */
  topics: string;
  /** The lead paragraph, shortened. */
  summary: string;
  /** The edition id. */
  edition: string;
  /** How many stories the edition tells. */
  stories: number;
}

/** Line breaks, tabs and every other control or separator character: none belongs in a header. */
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]+/g;

/** Makes text one clean line: control characters become spaces, runs of white space one space. */
export function oneLine(text: string): string {
  return text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
}

/** The full date of an instant in a zone, in the publication's language (luxon, via Intl). */
export function writtenDate(instant: Date, zone: string, language: string): string {
  const parts = DateTime.fromJSDate(instant, { zone }).setLocale(language).toLocaleParts(DateTime.DATE_HUGE);
  // English puts a comma after the weekday only before a month name ("Wednesday, July 23"); Intl's
  // en-GB and a few others also write it before the day, where English house styles do not.
  const [weekday, separator, next] = parts;
  if (/^en\b/i.test(language) && weekday?.type === 'weekday' && separator?.value === ', ' && next?.type === 'day') parts[1] = { type: 'literal', value: ' ' };
  return parts.map((part) => part.value).join('');
}

/** Topic names joined the way the language lists things ("peace talks, protests and the front line"). */
export function listTopics(names: readonly string[], language: string): string {
  return new Intl.ListFormat(language, { style: 'long', type: 'conjunction' }).format(names);
}

/**
 * Fills a one-line template from the config (`edition.subject`, `edition.preheader`). Values are
 * plain text, not HTML: the result is a header or hidden text that is escaped where it is used.
 * Line breaks and control characters are removed from the result, and a separator left dangling
 * by an empty value (`…: ` with no topics) is dropped.
 */
export function fillLine(template: string, field: string, values: LineValues): string {
  let filled: string;
  try {
    filled = Handlebars.create().compile(template, { noEscape: true, strict: true, knownHelpersOnly: true })(values);
  } catch (error) {
    throw new BriefingError('email', 'invalid-line-template', `${field} "${template}": ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  return oneLine(filled).replace(/[\s:;,·|–—-]+$/u, '');
}
