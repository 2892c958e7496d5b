/**
 * Short names of time zones as readers see them next to a time. ICU gives a zone's short name only in
 * locales where the name is in common use (EDT in en-US; BST and EEST in en-GB) and an offset from
 * GMT ("GMT+3") elsewhere, so English text takes the name any English locale has. Other languages
 * keep their own form (MESZ in German, UTC+2 in French).
 */

/** English locales whose short zone names are tried in turn. */
const ENGLISH_LOCALES = ['en-US', 'en-GB'];

/** A short zone name that is an offset ("GMT+3", "UTC−2", "GMT+5:30"), as ICU writes a zone it has no name for. */
const OFFSET_NAME = /(?:GMT|UTC)[+\-\u2212]\d{1,2}(?::\d{2})?/;

/** One formatter per locale and zone: making one costs more than formatting with it. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function shortName(instant: Date, zone: string, locale: string): string {
  const key = `${locale}\0${zone}`;
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
    formatters.set(key, formatter);
  }
  return formatter.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? zone;
}

/** The zone's short name at `instant` in English: `EEST`, `BST`, `EDT`, or an offset where no English locale names it. */
export function englishZoneName(instant: Date, zone: string): string {
  for (const locale of ENGLISH_LOCALES) {
    const name = shortName(instant, zone, locale);
    if (!OFFSET_NAME.test(name)) return name;
  }
  return shortName(instant, zone, ENGLISH_LOCALES[0] as string);
}

/**
 * For text in `language` that shows a time with its zone's short name (as Intl and luxon write it with
 * `timeZoneName: 'short'`): gives the text with an offset in place of the name replaced by the zone's
 * English name, when the language is English and an English locale has one. Anything else is given back as it is.
 */
export function zoneNamesFor(language: string, zone: string): (text: string, instant: Date) => string {
  if (!/^en(?:-|$)/i.test(language)) return (text) => text;
  return (text, instant) => {
    const offset = OFFSET_NAME.exec(text);
    if (offset === null) return text;
    const name = englishZoneName(instant, zone);
    return OFFSET_NAME.test(name) ? text : `${text.slice(0, offset.index)}${name}${text.slice(offset.index + offset[0].length)}`;
  };
}
