import { DateTime, IANAZone } from 'luxon';
import { BriefingError } from '../errors.js';
import { parseCron } from '../schedule/cron-pattern.js';
import { previousSlot } from '../schedule/next-slot.js';
import { slotId } from '../schedule/slot-id.js';
import { wallTimeToInstant } from '../schedule/wall-time.js';

/** An edition's name and the scheduled instant it belongs to. */
export interface EditionSlot {
  id: string;
  slot: Date;
}

/** `YYYY-MM-DD`, optionally with `THH:mm` or `THH:mm:ss` (a slot id when several editions a day run). */
const EDITION_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * The edition a command works on. With `date` (`--date`): a date means that day at the schedule's
 * first time of day, a slot id means that wall time, both read in the publication zone with the
 * schedule's DST rules. Without: the due edition, the latest slot at or before `now` (planning an
 * edition before its slot would close its window on articles not yet written).
 */
export function resolveEditionSlot(request: { cron: string; zone: string; now: Date; date?: string }): EditionSlot {
  const { cron, zone } = request;
  if (request.date === undefined) {
    const slot = previousSlot(cron, zone, request.now);
    if (slot === undefined) {
      throw new BriefingError('edition', 'no-slot', `schedule.cron "${cron}" has no slot before ${request.now.toISOString()}`);
    }
    return { id: slotId(cron, zone, slot), slot };
  }
  const match = EDITION_DATE.exec(request.date);
  const [year, month, day, hour, minute, second] = (match?.slice(1) ?? []).map((part) => (part === undefined ? undefined : Number(part)));
  const valid =
    year !== undefined && month !== undefined && day !== undefined &&
    DateTime.fromObject({ year, month, day, hour: hour ?? 0, minute: minute ?? 0, second: second ?? 0 }, { zone: 'UTC' }).isValid;
  if (!valid) {
    throw new BriefingError('edition', 'invalid-date', `--date "${request.date}" is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:mm)`, {
      exitCode: 2,
    });
  }
  const pattern = parseCron(cron);
  const time =
    hour === undefined
      ? { hour: pattern.hours[0] ?? 0, minute: pattern.minutes[0] ?? 0, second: pattern.seconds[0] ?? 0 }
      : { hour, minute: minute ?? 0, second: second ?? 0 };
  const slot = new Date(wallTimeToInstant({ year, month, day, ...time }, IANAZone.create(zone)));
  return { id: slotId(cron, zone, slot), slot };
}

/** The date (`YYYY-MM-DD`) of an instant in the zone: an edition's date is its slot's local date. */
export function dateInZone(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate() ?? '';
}
