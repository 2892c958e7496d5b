import { DateTime, IANAZone } from 'luxon';
import { BriefingError } from '../errors.js';
import { parseCron, type CronPattern } from './cron-pattern.js';
import { wallTimeToInstant } from './wall-time.js';

/** How far a slot walk looks before it gives up (node-cron looks as far). */
const MAX_DAYS = 366 * 100;

/** Most slots `slotsBetween` returns: a seconds-level cron over a long outage must not fill memory. */
export const SLOTS_BETWEEN_LIMIT = 10_000;

interface Day {
  year: number;
  month: number;
  day: number;
}

function zoneOf(zone: string): IANAZone {
  if (!IANAZone.isValidZone(zone)) {
    throw new BriefingError('schedule', 'invalid-zone', `"${zone}" is not an IANA time zone`);
  }
  return IANAZone.create(zone);
}

/** The local calendar day of `instant` in `zone`. */
function localDay(instant: number, zone: IANAZone): Day {
  const local = DateTime.fromMillis(instant, { zone });
  return { year: local.year, month: local.month, day: local.day };
}

/** The calendar day `offset` days from `day`: calendar arithmetic needs no zone, so no luxon work per day of a walk. */
function addDays(day: Day, offset: number): Day {
  const date = new Date(Date.UTC(day.year, day.month - 1, day.day + offset));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/**
 * Slot instants after `after`, ascending, each once (several skipped wall times can name the same
 * instant). Whole days, hours and minutes whose last instant is not past `after` are passed over
 * without looking at each second, so a seconds-level cron costs little.
 */
function* slotsAfter(pattern: CronPattern, zone: IANAZone, after: number): Generator<number> {
  const lastSecond = pattern.seconds.at(-1) ?? 0;
  const lastMinute = pattern.minutes.at(-1) ?? 0;
  const lastHour = pattern.hours.at(-1) ?? 0;
  const first = localDay(after, zone);
  let previous = after;
  // Start a day early: a wall time late on the previous day can fall in a gap that ends today.
  for (let index = 0; index <= MAX_DAYS; index += 1) {
    const day = addDays(first, index - 1);
    if (!pattern.matchesDay(day.year, day.month, day.day)) continue;
    const at = (hour: number, minute: number, second: number): number =>
      wallTimeToInstant({ ...day, hour, minute, second }, zone);
    if (at(lastHour, lastMinute, lastSecond) <= previous) continue;
    for (const hour of pattern.hours) {
      if (at(hour, lastMinute, lastSecond) <= previous) continue;
      for (const minute of pattern.minutes) {
        if (at(hour, minute, lastSecond) <= previous) continue;
        for (const second of pattern.seconds) {
          const instant = at(hour, minute, second);
          if (instant > previous) {
            previous = instant;
            yield instant;
          }
        }
      }
    }
  }
}

/** Slot instants at or before `atOrBefore`, newest first, each once; the mirror of slotsAfter. */
function* slotsAtOrBefore(pattern: CronPattern, zone: IANAZone, atOrBefore: number): Generator<number> {
  const firstSecond = pattern.seconds[0] ?? 0;
  const firstMinute = pattern.minutes[0] ?? 0;
  const firstHour = pattern.hours[0] ?? 0;
  const hours = [...pattern.hours].reverse();
  const minutes = [...pattern.minutes].reverse();
  const seconds = [...pattern.seconds].reverse();
  const last = localDay(atOrBefore, zone);
  let previous = atOrBefore + 1;
  for (let index = 0; index <= MAX_DAYS; index += 1) {
    const day = addDays(last, 1 - index);
    if (!pattern.matchesDay(day.year, day.month, day.day)) continue;
    const at = (hour: number, minute: number, second: number): number =>
      wallTimeToInstant({ ...day, hour, minute, second }, zone);
    if (at(firstHour, firstMinute, firstSecond) >= previous) continue;
    for (const hour of hours) {
      if (at(hour, firstMinute, firstSecond) >= previous) continue;
      for (const minute of minutes) {
        if (at(hour, minute, firstSecond) >= previous) continue;
        for (const second of seconds) {
          const instant = at(hour, minute, second);
          if (instant < previous) {
            previous = instant;
            yield instant;
          }
        }
      }
    }
  }
}

/**
 * The first slot of `cron` strictly after `now`, with the cron read in `zone`. Pure: the scheduler
 * and `briefing status` both ask it, and tests pin it with fixed clocks across DST changes.
 */
export function nextSlot(cron: string, zone: string, now: Date): Date {
  const pattern = parseCron(cron);
  const first = slotsAfter(pattern, zoneOf(zone), now.getTime()).next();
  if (first.done) {
    throw new BriefingError('schedule', 'no-slot', `schedule.cron "${cron}" has no slot in the next ${MAX_DAYS / 366} years`);
  }
  return new Date(first.value);
}

/** The latest slot at or before `atOrBefore` (the edition that is due), or undefined if none in range. */
export function previousSlot(cron: string, zone: string, atOrBefore: Date): Date | undefined {
  const latest = slotsAtOrBefore(parseCron(cron), zoneOf(zone), atOrBefore.getTime()).next();
  return latest.done ? undefined : new Date(latest.value);
}

/** Slots in (after, upTo], ascending, at most `limit` of them (bounded for seconds-level crons). */
export function slotsBetween(cron: string, zone: string, after: Date, upTo: Date, limit = SLOTS_BETWEEN_LIMIT): Date[] {
  const slots: Date[] = [];
  if (upTo.getTime() <= after.getTime()) return slots;
  for (const instant of slotsAfter(parseCron(cron), zoneOf(zone), after.getTime())) {
    if (instant > upTo.getTime() || slots.length >= limit) break;
    slots.push(new Date(instant));
  }
  return slots;
}

/** The next `count` slots after `now`: what `briefing status` and `briefing schedule` announce. */
export function upcomingSlots(cron: string, zone: string, now: Date, count: number): Date[] {
  const slots: Date[] = [];
  for (const instant of slotsAfter(parseCron(cron), zoneOf(zone), now.getTime())) {
    if (slots.length >= count) break;
    slots.push(new Date(instant));
  }
  return slots;
}
