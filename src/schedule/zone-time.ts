import { DateTime } from 'luxon';

/**
 * Locales whose short zone names are tried in turn: ICU names a zone only in locales where the
 * name is in common use (EDT in en-US, EEST in en-GB), and "GMT+3" elsewhere.
 */
const NAMING_LOCALES = ['en-US', 'en-GB'];

/** An instant as the publication's readers see it: `2025-07-23 21:00 EEST` (wall time and zone abbreviation), the one form every command prints. */
export function formatZoneTime(instant: Date, zone: string): string {
  const local = DateTime.fromJSDate(instant, { zone });
  const names = NAMING_LOCALES.map((locale) => local.setLocale(locale).toFormat('ZZZZ'));
  const name = names.find((candidate) => !/^GMT[+-]/.test(candidate)) ?? names[0];
  return `${local.toFormat('yyyy-MM-dd HH:mm')} ${name}`;
}
