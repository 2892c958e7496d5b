import { DateTime, FixedOffsetZone } from 'luxon';
import { offsetInRange, parsePublicationTime } from './publication-time.js';

/** A date line read, or which part of it could not be read. */
export type WireDate = { ok: true; time: DateTime } | { ok: false; problem: string };

/**
 * Zone abbreviations wire copy uses, as hours from UTC. An abbreviation names an offset, not a
 * zone's rules, and several are ambiguous worldwide (CST, IST): these are the common English-news
 * readings; anything else should be written as an offset.
 */
const ABBREVIATIONS: Record<string, number> = {
  UTC: 0, GMT: 0, Z: 0, WET: 0, BST: 1, WEST: 1, CET: 1, CEST: 2, EET: 2, EEST: 3, MSK: 3,
  EST: -5, EDT: -4, CST: -6, CDT: -5, MST: -7, MDT: -6, PST: -8, PDT: -7, AKST: -9, AKDT: -8, HST: -10,
  AST: -4, ADT: -3, NST: -3.5, NDT: -2.5, JST: 9, KST: 9, AEST: 10, AEDT: 11, ACST: 9.5, AWST: 8, NZST: 12, NZDT: 13,
};

/** The date forms read besides ISO 8601, in luxon's tokens (English month names). */
const DATE_FORMATS = ['yyyy-MM-dd', 'LLLL d, yyyy', 'LLL d, yyyy', 'LLLL d yyyy', 'LLL d yyyy', 'd LLLL yyyy', 'd LLL yyyy', 'd LLLL, yyyy', 'd LLL, yyyy'];
const TIME_FORMATS = ['H:mm', 'H:mm:ss', 'h:mm a', 'h:mm:ss a', 'h a'];

/** What the README lists: one example per form. */
export const WIRE_DATE_EXAMPLES = ['2025-07-31T18:02:00-04:00', '2025-07-31 18:02:00', 'July 31, 2025 6:02 PM EDT', 'Jul 31, 2025 18:02 UTC', '31 July 2025 18:02 +01:00'];

/** Longer than any date line: "Wednesday, September 30, 2025 at 12:30:45 p.m. GMT+05:30" is 56. */
const MAX_LENGTH = 80;
const ZONE_AT_END = /\s+(\(?[A-Za-z]{1,5}\)?|(?:UTC|GMT)?\s?[+-]\d{1,2}(?::?\d{2})?)$/;
const TIME_AT_END = /(?:^|[\s,T]+)(?:at\s+)?(\d{1,2}(?::\d{2}){0,2}\s*(?:[AaPp]\.?\s?[Mm]\.?)?)$/;

/** A zone written as an abbreviation or an offset, as a luxon zone; undefined when unknown. */
function zoneOf(written: string): FixedOffsetZone | undefined {
  const bare = written.replace(/[()]/g, '');
  const hours = ABBREVIATIONS[bare.toUpperCase()];
  if (hours !== undefined) return FixedOffsetZone.instance(hours * 60);
  const offset = /^(?:UTC|GMT)?\s?([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(bare);
  if (offset === null) return undefined;
  if (!offsetInRange(Number(offset[2]), Number(offset[3] ?? 0))) return undefined;
  const minutes = Number(offset[2]) * 60 + Number(offset[3] ?? 0);
  return FixedOffsetZone.instance(offset[1] === '-' ? -minutes : minutes);
}

function firstValid(text: string, formats: readonly string[]): DateTime | undefined {
  for (const format of formats) {
    const parsed = DateTime.fromFormat(text, format, { locale: 'en-US', zone: 'UTC' });
    if (parsed.isValid) return parsed;
  }
  return undefined;
}

/**
 * Reads a publication time as wire copy writes it: ISO 8601, `YYYY-MM-DD HH:MM[:SS]`, or a date
 * with an English month name and a 12- or 24-hour time, each optionally followed by a zone
 * abbreviation (EDT, UTC, EEST…) or an offset (+03:00, GMT-4). Without a zone the time is a wall
 * time in `timeZone`. A failure says which part (date, time or zone) could not be read.
 */
export function parseWireDate(value: string, timeZone: string): WireDate {
  const text = value.trim();
  // Bounded, so the patterns below never scan a hostile megabyte-long line.
  if (text.length > MAX_LENGTH) return { ok: false, problem: `"${text.slice(0, 20)}…" is ${text.length} characters long, too long to be a date` };
  const iso = parsePublicationTime(text, timeZone);
  if (iso !== undefined) return { ok: true, time: iso };
  let rest = text;
  let zone: FixedOffsetZone | string = timeZone;
  const zoneMatch = ZONE_AT_END.exec(rest);
  // A trailing "PM" or "am" is part of the time, not a zone.
  if (zoneMatch?.[1] !== undefined && !/^[AaPp]\.?[Mm]\.?$/.test(zoneMatch[1])) {
    const known = zoneOf(zoneMatch[1]);
    if (known === undefined) {
      if (/^\(?[A-Za-z]+\)?$/.test(zoneMatch[1]) && /\d/.test(rest.slice(0, zoneMatch.index))) {
        return { ok: false, problem: `the zone "${zoneMatch[1]}" is not one it knows: write an offset such as -04:00 or UTC+3` };
      }
    } else {
      zone = known;
      rest = rest.slice(0, zoneMatch.index);
    }
  }
  const timeMatch = TIME_AT_END.exec(rest);
  if (timeMatch?.[1] === undefined) return { ok: false, problem: `no time of day in "${text}": add one such as 18:02 or 6:02 PM` };
  const timeText = timeMatch[1].replace(/([AaPp])\.?\s?[Mm]\.?$/, (_whole, letter: string) => ` ${letter.toUpperCase()}M`).replace(/\s+/g, ' ').trim();
  const dateText = rest.slice(0, timeMatch.index).replace(/[\s,]+$/, '').replace(/\b([A-Za-z]{3,4})\./, '$1');
  const time = firstValid(timeText, TIME_FORMATS);
  if (time === undefined) return { ok: false, problem: `the time "${timeMatch[1]}" cannot be read: write it as 18:02 or 6:02 PM` };
  const date = firstValid(dateText, DATE_FORMATS);
  if (date === undefined) return { ok: false, problem: `the date "${dateText}" cannot be read: write it as 2025-07-31, July 31, 2025 or 31 July 2025` };
  const combined = DateTime.fromObject(
    { year: date.year, month: date.month, day: date.day, hour: time.hour, minute: time.minute, second: time.second },
    { zone },
  );
  if (!combined.isValid) return { ok: false, problem: `"${text}" is not a time that exists (${combined.invalidExplanation ?? 'invalid'})` };
  return { ok: true, time: combined };
}
