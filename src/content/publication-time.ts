import { DateTime, FixedOffsetZone } from 'luxon';

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
  const offset = /T[\d:.,]+(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/i.exec(text);
  if (offset?.[1] !== undefined && !offsetInRange(Number(offset[1]), Number(offset[2] ?? 0))) return undefined;
  const plain = plainOffsetTime(text);
  if (plain !== undefined) return plain;
  const time = DateTime.fromISO(text, offset !== null ? { setZone: true } : { zone: timeZone });
  return time.isValid ? time : undefined;
}

/**
 * An offset no further from UTC than any place has been (±14:00), minutes below 60: a larger one
 * (`+99:00`) is a typing error that would move the time by days, not a place.
 */
export function offsetInRange(hours: number, minutes: number): boolean {
  return minutes < 60 && hours * 60 + minutes <= 14 * 60;
}

/** The form records are written in: seconds and an offset (or Z), nothing more. */
const PLAIN_OFFSET_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * A time of the plain form read without luxon's general ISO reader, which costs some ten times as
 * much (a tenth of a second in a load of 10,000 records). Undefined, for luxon to read, unless the
 * date and time are as written once made a time (no day 31 of April, no hour 24, no leap second, no
 * year before 100), so it is the time luxon reads (`test/content/publication-time.test.ts`).
 */
function plainOffsetTime(text: string): DateTime | undefined {
  const match = PLAIN_OFFSET_TIME.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [offsetHours, offsetMinutes] = [Number(match[8] ?? 0), Number(match[9] ?? 0)];
  const wallClock = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const asWritten =
    wallClock.getUTCFullYear() === year &&
    wallClock.getUTCMonth() === month - 1 &&
    wallClock.getUTCDate() === day &&
    wallClock.getUTCHours() === hour &&
    wallClock.getUTCMinutes() === minute &&
    wallClock.getUTCSeconds() === second;
  if (!asWritten) return undefined;
  const offset = (match[7] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  return DateTime.fromMillis(wallClock.getTime() - offset * 60_000, { zone: FixedOffsetZone.instance(offset) });
}

/** Writes a time as ISO 8601 with the zone's offset and no milliseconds: how records store dates. */
export function formatPublicationTime(time: DateTime): string {
  return time.toISO({ suppressMilliseconds: true, includeOffset: true }) ?? '';
}
