import { IANAZone } from 'luxon';

/** A clock reading in a time zone (month 1–12), before it is pinned to an instant. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const DAY_MS = 86_400_000;

/**
 * The instant (epoch ms) a wall-clock time names in `zone`, by the schedule's DST rules: a time
 * the clocks skip over names the first valid instant after the gap (so a slot inside a skipped
 * hour runs once, as soon as the hour is over); a time the clocks show twice names its first
 * occurrence (so a slot inside a repeated hour runs once). The mapping never goes backwards as
 * the wall time advances, which is what lets a slot walk stop at the first instant past "now".
 * luxon alone would shift a skipped time by the gap and pick the later of a repeated pair.
 */
export function wallTimeToInstant(wall: WallTime, zone: IANAZone): number {
  const local = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const before = zone.offset(local - DAY_MS);
  const after = zone.offset(local + DAY_MS);
  const candidates = [...new Set([before, zone.offset(local), after])]
    .map((offset) => ({ offset, instant: local - offset * 60_000 }))
    .filter(({ offset, instant }) => zone.offset(instant) === offset)
    .map(({ instant }) => instant);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the transition lies between the instants the two offsets name; find it to the second.
  let low = local - Math.max(before, after) * 60_000;
  let high = local - Math.min(before, after) * 60_000;
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (zone.offset(middle) === before) low = middle;
    else high = middle;
  }
  return high;
}
