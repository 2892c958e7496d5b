import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { createIsoFormatter } from '../../src/output/iso-time.js';

/** Zones with DST, half- and quarter-hour offsets, a skipped day, negative offsets, and UTC. */
const ZONES = ['Europe/Kyiv', 'Europe/London', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Apia', 'America/Sao_Paulo', 'UTC', 'Etc/GMT+5'];
/** Those whose offset changed in 2011 or 2025 (so the minute-by-minute check is not empty for them). */
const CHANGING = new Set(['Europe/Kyiv', 'Europe/London', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Apia', 'America/Sao_Paulo']);

const DAY = 86_400_000;

const luxon = (date: Date, zone: string): string => DateTime.fromJSDate(date, { zone }).toISO({ suppressMilliseconds: true }) ?? '';

/** UTC days of a year on which the zone's offset changes. */
function transitionDays(zone: string, year: number): number[] {
  const iana = IANAZone.create(zone);
  const days: number[] = [];
  for (let day = Date.UTC(year, 0, 1) / DAY; day < Date.UTC(year + 1, 0, 1) / DAY; day += 1) {
    if (iana.offset(day * DAY) !== iana.offset((day + 1) * DAY - 1)) days.push(day);
  }
  return days;
}

describe('createIsoFormatter', () => {
  it.each(ZONES)('writes what luxon writes in %s, for any instant from 1900 to 2100', (zone) => {
    const format = createIsoFormatter(zone);
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }), (time) => format(new Date(time)) === luxon(new Date(time), zone)),
      { numRuns: 2000 },
    );
  });

  it.each(ZONES)('writes what luxon writes in %s on the days its offset changes (2011, 2025), minute by minute', (zone) => {
    const format = createIsoFormatter(zone);
    const mismatches: string[] = [];
    const days = [2011, 2025].flatMap((year) => transitionDays(zone, year));
    expect(days.length > 0).toBe(CHANGING.has(zone));
    for (const day of days) {
      for (let time = day * DAY; time < (day + 1) * DAY; time += 60_000) {
        for (const instant of [new Date(time), new Date(time + 999)]) {
          if (format(instant) !== luxon(instant, zone)) mismatches.push(instant.toISOString());
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});
