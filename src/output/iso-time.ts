import { DateTime, Info } from 'luxon';

const DAY_MS = 86_400_000;

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** `+03:00` / `-03:30`, as luxon writes an offset of minutes. */
function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const size = Math.abs(minutes);
  return `${sign}${pad(Math.trunc(size / 60))}:${pad(Math.trunc(size % 60))}`;
}

/**
 * Formats instants as ISO 8601 in a time zone with its offset and no zero milliseconds, exactly as
 * luxon's `DateTime.fromJSDate(date, { zone }).toISO({ suppressMilliseconds: true })` does, but
 * asks the zone for its offset once per UTC day instead of once per instant (luxon's lookup is most
 * of the home page's cost with thousands of articles). A day whose offset differs at its two ends
 * holds a transition: its instants are formatted by luxon itself. No zone changes its offset twice
 * within one day.
 */
export function createIsoFormatter(timeZone: string): (date: Date) => string {
  const zone = Info.normalizeZone(timeZone);
  const viaLuxon = (date: Date): string => DateTime.fromJSDate(date, { zone }).toISO({ suppressMilliseconds: true }) ?? date.toISOString();
  // Fixed-offset zones (UTC) are cheap for luxon, and it writes their zero offset as `Z`.
  if (zone.isUniversal || !zone.isValid) return viaLuxon;
  const offsets = new Map<number, number | undefined>();
  return (date) => {
    const time = date.getTime();
    const day = Math.floor(time / DAY_MS);
    let offset = offsets.get(day);
    if (!offsets.has(day)) {
      const first = zone.offset(day * DAY_MS);
      offset = first === zone.offset((day + 1) * DAY_MS - 1) ? first : undefined;
      offsets.set(day, offset);
    }
    if (offset === undefined) return viaLuxon(date);
    const local = new Date(time + offset * 60_000);
    const year = local.getUTCFullYear();
    if (year < 0 || year > 9999 || Number.isNaN(year)) return viaLuxon(date);
    const milliseconds = local.getUTCMilliseconds();
    return (
      `${pad(year, 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
      `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
      `${milliseconds === 0 ? '' : `.${pad(milliseconds, 3)}`}${offsetText(offset)}`
    );
  };
}
