/**
 * parsePublicationTime reads the plain form records are written in (`2025-07-23T12:58:11+03:00`)
 * without luxon's ISO reader; luxon stays the reference: for every text the result must be the
 * time, offset and zone luxon gives, or nothing where luxon finds no time.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parsePublicationTime } from '../../src/content/publication-time.js';

const ZONE = 'Europe/Kyiv';

/** What luxon reads, as parsePublicationTime read texts before it had a path of its own. */
function byLuxon(text: string): DateTime | undefined {
  // Luxon reads any two-digit offset; one past ±14:00, or with minutes past 59, is no time here.
  const offset = /T[\d:.,]+[+-](\d{2})(?::?(\d{2}))?$/i.exec(text);
  if (offset !== null && (Number(offset[2] ?? 0) > 59 || Number(offset[1]) * 60 + Number(offset[2] ?? 0) > 14 * 60)) return undefined;
  const hasOffset = /T[\d:.,]+(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(text);
  const time = DateTime.fromISO(text, hasOffset ? { setZone: true } : { zone: ZONE });
  return time.isValid ? time : undefined;
}

const shown = (time: DateTime | undefined): unknown => (time === undefined ? undefined : { ms: time.toMillis(), offset: time.offset, zone: time.zoneName, iso: time.toISO() });

function expectAsLuxon(text: string): void {
  expect(shown(parsePublicationTime(text, ZONE)), text).toEqual(shown(byLuxon(text)));
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

describe('parsePublicationTime', () => {
  it('reads edge cases of the plain form as luxon does: month ends, leap days, hour 24, leap seconds, offsets', () => {
    const texts = [
      '2025-07-23T12:58:11+03:00',
      '2025-07-23T12:58:11Z',
      '2025-07-23T12:58:11-00:00',
      '2025-07-23T12:58:11+00:00',
      '2025-07-23T12:58:11-09:30',
      '2025-07-23T12:58:11+14:00',
      '2025-07-23T12:58:11+23:59',
      '2025-07-23T12:58:11+24:00',
      '2025-07-23T12:58:11+05:60',
      '2024-02-29T00:00:00+01:00',
      '2025-02-29T00:00:00+01:00',
      '1900-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '2025-04-31T10:00:00Z',
      '2025-12-31T23:59:59-12:00',
      '2025-00-10T10:00:00Z',
      '2025-13-10T10:00:00Z',
      '2025-07-00T10:00:00Z',
      '2025-07-23T24:00:00Z',
      '2025-07-23T23:60:00Z',
      '2025-07-23T23:59:60Z',
      '0999-07-23T10:00:00Z',
      '0050-07-23T10:00:00Z',
      '1000-01-01T00:00:00Z',
      '9999-12-31T23:59:59+00:01',
      '2025-07-23T12:58:11z',
      '2025-07-23t12:58:11Z',
      '2025-07-23T12:58:11.5+03:00',
      '2025-07-23T12:58+03:00',
      '2025-07-23T12:58:11',
      '2025-07-23',
    ];
    for (const text of texts) expectAsLuxon(text);
  });

  it('reads 20,000 generated texts of the plain form, in range or not, as luxon does', () => {
    const field = (low: number, high: number, width: number): fc.Arbitrary<string> => fc.integer({ min: low, max: high }).map((value) => pad(value, width));
    const offset = fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), field(0, 30, 2), field(0, 70, 2)).map(([sign, hours, minutes]) => `${sign}${hours}:${minutes}`));
    const text = fc
      .tuple(field(0, 9999, 4), field(0, 13, 2), field(0, 32, 2), field(0, 25, 2), field(0, 61, 2), field(0, 61, 2), offset)
      .map(([year, month, day, hour, minute, second, zone]) => `${year}-${month}-${day}T${hour}:${minute}:${second}${zone}`);
    fc.assert(fc.property(text, (value) => expectAsLuxon(value)), { numRuns: 20_000, seed: 19 });
  });

  it('refuses an offset past ±14:00 or with minutes past 59, which would move the time by days', () => {
    for (const text of ['2025-01-06T09:00:00+99:00', '2025-01-06T09:00:00-99:59', '2025-01-06T09:00:00+05:99', '2025-01-06T09:00:00+14:01', '2025-01-06T09:00:00+18:00', '2025-01-06T09:00+1900', '2025-01-06T09:00:00.5-19']) {
      expect(parsePublicationTime(text, ZONE), text).toBeUndefined();
    }
    for (const text of ['2025-01-06T09:00:00-14:00', '2025-01-06T09:00:00-12:00', '2025-01-06T09:00:00+14:00', '2025-01-06T09:00:00+05:45']) {
      expect(parsePublicationTime(text, ZONE), text).toBeDefined();
    }
  });

  it('still reads a time without an offset in the publication zone, and a space for the T', () => {
    const time = parsePublicationTime('2025-07-23 12:58:11', ZONE);
    expect(time?.toISO()).toBe('2025-07-23T12:58:11.000+03:00');
    expect(parsePublicationTime(' 2025-07-23T12:58:11+03:00 ', ZONE)?.toMillis()).toBe(Date.parse('2025-07-23T09:58:11Z'));
  });
});
