import { DateTime } from 'luxon';

/**
 * Reads an ISO 8601 date-time (`T` or a space between date and time). One without an offset is a
 * wall-clock time in `timeZone`, as editors write times in the publication's zone; one with an
 * offset keeps it (and skips the costly zone lookup). Returns undefined for anything else.
 */
export function parsePublicationTime(value: string, timeZone: string): DateTime | undefined {
  const text = value.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) {
    return undefined;
  }
  const hasOffset = /T[\d:.,]+(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(text);
  const time = DateTime.fromISO(text, hasOffset ? { setZone: true } : { zone: timeZone });
  return time.isValid ? time : undefined;
}

/** Writes a time as ISO 8601 with the zone's offset and no milliseconds: how records store dates. */
export function formatPublicationTime(time: DateTime): string {
  return time.toISO({ suppressMilliseconds: true, includeOffset: true }) ?? '';
}
