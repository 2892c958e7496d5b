import { validate, validateDetailed } from 'node-cron';
import { BriefingError } from '../errors.js';

/**
 * A cron expression as node-cron reads it (5 or 6 fields, seconds first when 6, names, ranges,
 * steps, `L`, `W`, `#`), expanded into the lists a slot walk needs. node-cron parses; only the
 * day tests are ours, because node-cron does not export its matcher. Like node-cron (and unlike
 * Vixie cron) a day must match both the day-of-month and the day-of-week field.
 */
export interface CronPattern {
  readonly source: string;
  /** Ascending, without duplicates. */
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** True when the calendar day (month 1–12) has slots. */
  matchesDay(year: number, month: number, day: number): boolean;
  /** At most one slot a day: editions are named by their date alone. */
  readonly atMostDaily: boolean;
  /** More than one slot a minute: slot ids carry seconds. */
  readonly subMinute: boolean;
}

type DayToken = number | string;

/** Parses and validates a cron expression; errors name the field node-cron objected to. */
export function parseCron(cron: string): CronPattern {
  const detailed = validateDetailed(cron);
  if (!detailed.valid || !detailed.fields || !validate(cron)) {
    const reasons = detailed.errors.map((error) => error.message).join('; ') || 'not accepted by node-cron';
    throw new BriefingError('schedule', 'invalid-cron', `schedule.cron "${cron}" is not a cron expression: ${reasons}`);
  }
  const { fields } = detailed;
  const ascending = (values: readonly DayToken[]): number[] =>
    [...new Set(values.filter((value): value is number => typeof value === 'number'))].sort((a, b) => a - b);
  const seconds = ascending(fields.second);
  const minutes = ascending(fields.minute);
  const hours = ascending(fields.hour);
  const months = new Set(ascending(fields.month));
  const daysOfMonth = fields.dayOfMonth;
  const daysOfWeek = fields.dayOfWeek;
  return {
    source: cron,
    seconds,
    minutes,
    hours,
    matchesDay: (year, month, day) =>
      months.has(month) && matchesDayOfMonth(daysOfMonth, year, month, day) && matchesDayOfWeek(daysOfWeek, year, month, day),
    atMostDaily: seconds.length * minutes.length * hours.length === 1,
    subMinute: seconds.length > 1,
  };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The weekday (Mon–Fri) nearest to `target` within the month, as `15W` asks. */
function nearestWeekday(year: number, month: number, target: number): number | undefined {
  const last = daysInMonth(year, month);
  if (target < 1 || target > last) return undefined;
  const weekday = weekdayOf(year, month, target);
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(tokens: readonly DayToken[], year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month);
  return tokens.some((token) => {
    if (typeof token === 'number') return token === day;
    if (token === 'L') return day === last;
    const weekday = /^(\d{1,2}|L)W$/.exec(token);
    if (weekday?.[1] !== undefined) {
      return nearestWeekday(year, month, weekday[1] === 'L' ? last : Number(weekday[1])) === day;
    }
    const offset = /^L-(\d{1,2})$/.exec(token);
    return offset?.[1] !== undefined && last - Number(offset[1]) === day;
  });
}

function matchesDayOfWeek(tokens: readonly DayToken[], year: number, month: number, day: number): boolean {
  const weekday = weekdayOf(year, month, day);
  return tokens.some((token) => {
    if (typeof token === 'number') return token === weekday;
    const nth = /^([0-7])#([1-5])$/.exec(token);
    if (nth?.[1] !== undefined && nth[2] !== undefined) {
      return Number(nth[1]) === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2]);
    }
    const lastOfMonth = /^([0-7])L$/.exec(token);
    return lastOfMonth?.[1] !== undefined && Number(lastOfMonth[1]) === weekday && day + 7 > daysInMonth(year, month);
  });
}
