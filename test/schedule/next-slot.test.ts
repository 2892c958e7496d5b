import fc from 'fast-check';
import { DateTime } from 'luxon';
import { createTask } from 'node-cron';
import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/schedule/cron-pattern.js';
import { nextSlot, previousSlot, slotsBetween, upcomingSlots } from '../../src/schedule/next-slot.js';
import { slotId } from '../../src/schedule/slot-id.js';

const KYIV = 'Europe/Kyiv';
const NEW_YORK = 'America/New_York';

// Kyiv: clocks go 03:00 -> 04:00 (+02 -> +03) on the last Sunday of March at 01:00Z, and
// 04:00 -> 03:00 (+03 -> +02) on the last Sunday of October at 01:00Z.
// New York: 02:00 -> 03:00 (EST -> EDT) in March at 07:00Z, 02:00 -> 01:00 (EDT -> EST) in November at 06:00Z.
describe('nextSlot across DST changes', () => {
  it.each([
    // A daily slot inside the skipped hour runs once, at the first valid time after the gap.
    { zone: KYIV, cron: '0 30 3 * * *', now: '2025-03-29T12:00:00Z', next: '2025-03-30T01:00:00Z', local: '2025-03-30T04:00:00+03:00' },
    { zone: KYIV, cron: '0 30 3 * * *', now: '2025-03-30T01:00:00Z', next: '2025-03-31T00:30:00Z', local: '2025-03-31T03:30:00+03:00' },
    { zone: KYIV, cron: '0 30 3 * * *', now: '2026-03-28T12:00:00Z', next: '2026-03-29T01:00:00Z', local: '2026-03-29T04:00:00+03:00' },
    { zone: KYIV, cron: '0 30 3 * * *', now: '2026-03-29T01:00:00Z', next: '2026-03-30T00:30:00Z', local: '2026-03-30T03:30:00+03:00' },
    // A daily slot outside the change keeps its wall time; the UTC instant moves by the offset.
    { zone: KYIV, cron: '0 0 7 * * *', now: '2025-03-29T05:00:00Z', next: '2025-03-30T04:00:00Z', local: '2025-03-30T07:00:00+03:00' },
    { zone: KYIV, cron: '0 7 * * *', now: '2025-10-25T04:00:00Z', next: '2025-10-26T05:00:00Z', local: '2025-10-26T07:00:00+02:00' },
    // Hourly and quarter-hourly: the skipped wall times collapse into one slot at 04:00.
    { zone: KYIV, cron: '0 30 * * * *', now: '2025-03-30T00:30:00Z', next: '2025-03-30T01:00:00Z', local: '2025-03-30T04:00:00+03:00' },
    { zone: KYIV, cron: '0 30 * * * *', now: '2025-03-30T01:00:00Z', next: '2025-03-30T01:30:00Z', local: '2025-03-30T04:30:00+03:00' },
    { zone: KYIV, cron: '*/15 * * * *', now: '2026-03-29T00:45:00Z', next: '2026-03-29T01:00:00Z', local: '2026-03-29T04:00:00+03:00' },
    { zone: KYIV, cron: '*/15 * * * *', now: '2026-03-29T01:00:00Z', next: '2026-03-29T01:15:00Z', local: '2026-03-29T04:15:00+03:00' },
    // A slot inside the repeated hour runs once: the first occurrence (+03), never the second (+02).
    { zone: KYIV, cron: '0 30 3 * * *', now: '2025-10-25T12:00:00Z', next: '2025-10-26T00:30:00Z', local: '2025-10-26T03:30:00+03:00' },
    { zone: KYIV, cron: '0 30 3 * * *', now: '2025-10-26T00:30:00Z', next: '2025-10-27T01:30:00Z', local: '2025-10-27T03:30:00+02:00' },
    { zone: KYIV, cron: '0 30 * * * *', now: '2025-10-26T00:30:00Z', next: '2025-10-26T02:30:00Z', local: '2025-10-26T04:30:00+02:00' },
    { zone: KYIV, cron: '0 30 * * * *', now: '2026-10-25T01:10:00Z', next: '2026-10-25T02:30:00Z', local: '2026-10-25T04:30:00+02:00' },
    { zone: KYIV, cron: '0 30 3 * * *', now: '2026-10-24T12:00:00Z', next: '2026-10-25T00:30:00Z', local: '2026-10-25T03:30:00+03:00' },
    { zone: KYIV, cron: '0 30 3 * * *', now: '2026-10-25T00:30:00Z', next: '2026-10-26T01:30:00Z', local: '2026-10-26T03:30:00+02:00' },
    // New York, spring: 02:30 does not exist; the slot runs at 03:00 EDT.
    { zone: NEW_YORK, cron: '30 2 * * *', now: '2025-03-08T12:00:00Z', next: '2025-03-09T07:00:00Z', local: '2025-03-09T03:00:00-04:00' },
    { zone: NEW_YORK, cron: '30 2 * * *', now: '2025-03-09T07:00:00Z', next: '2025-03-10T06:30:00Z', local: '2025-03-10T02:30:00-04:00' },
    { zone: NEW_YORK, cron: '30 2 * * *', now: '2026-03-07T12:00:00Z', next: '2026-03-08T07:00:00Z', local: '2026-03-08T03:00:00-04:00' },
    { zone: NEW_YORK, cron: '0 7 * * *', now: '2026-03-07T12:00:00Z', next: '2026-03-08T11:00:00Z', local: '2026-03-08T07:00:00-04:00' },
    // New York, autumn: 01:30 happens twice; the slot runs at the first (EDT) only.
    { zone: NEW_YORK, cron: '30 1 * * *', now: '2025-11-01T12:00:00Z', next: '2025-11-02T05:30:00Z', local: '2025-11-02T01:30:00-04:00' },
    { zone: NEW_YORK, cron: '30 1 * * *', now: '2025-11-02T05:30:00Z', next: '2025-11-03T06:30:00Z', local: '2025-11-03T01:30:00-05:00' },
    { zone: NEW_YORK, cron: '0 30 1 * * *', now: '2026-10-31T12:00:00Z', next: '2026-11-01T05:30:00Z', local: '2026-11-01T01:30:00-04:00' },
    { zone: NEW_YORK, cron: '0 30 1 * * *', now: '2026-11-01T05:30:00Z', next: '2026-11-02T06:30:00Z', local: '2026-11-02T01:30:00-05:00' },
    { zone: NEW_YORK, cron: '*/20 * * * *', now: '2025-11-02T05:40:00Z', next: '2025-11-02T07:00:00Z', local: '2025-11-02T02:00:00-05:00' },
    // Seconds-level crons keep their seconds.
    { zone: NEW_YORK, cron: '*/3 * * * * *', now: '2026-03-08T06:59:59.500Z', next: '2026-03-08T07:00:00Z', local: '2026-03-08T03:00:00-04:00' },
  ])('$cron in $zone after $now is $local', ({ zone, cron, now, next, local }) => {
    const slot = nextSlot(cron, zone, new Date(now));
    expect(slot.toISOString()).toBe(new Date(next).toISOString());
    expect(DateTime.fromJSDate(slot, { zone }).toISO({ suppressMilliseconds: true })).toBe(local);
  });

  it.each([
    { zone: KYIV, cron: '0 */20 * * * *', after: '2025-10-25T23:30:00Z', upTo: '2025-10-26T02:30:00Z',
      // 03:00, 03:20, 03:40 (+03) run once; their repeats at 01:00Z, 01:20Z, 01:40Z do not.
      slots: ['2025-10-25T23:40:00Z', '2025-10-26T00:00:00Z', '2025-10-26T00:20:00Z', '2025-10-26T00:40:00Z', '2025-10-26T02:00:00Z', '2025-10-26T02:20:00Z'] },
    { zone: KYIV, cron: '0 */20 * * * *', after: '2026-03-29T00:00:00Z', upTo: '2026-03-29T01:30:00Z',
      // 03:00, 03:20, 03:40 are skipped; one slot runs at 04:00.
      slots: ['2026-03-29T00:20:00Z', '2026-03-29T00:40:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:20:00Z'] },
    { zone: NEW_YORK, cron: '0 */30 * * * *', after: '2025-03-09T06:00:00Z', upTo: '2025-03-09T08:00:00Z',
      slots: ['2025-03-09T06:30:00Z', '2025-03-09T07:00:00Z', '2025-03-09T07:30:00Z', '2025-03-09T08:00:00Z'] },
    { zone: NEW_YORK, cron: '0 */30 * * * *', after: '2026-11-01T04:50:00Z', upTo: '2026-11-01T07:00:00Z',
      slots: ['2026-11-01T05:00:00Z', '2026-11-01T05:30:00Z', '2026-11-01T07:00:00Z'] },
  ])('slotsBetween lists each slot once: $cron in $zone from $after', ({ zone, cron, after, upTo, slots }) => {
    const listed = slotsBetween(cron, zone, new Date(after), new Date(upTo)).map((slot) => slot.toISOString());
    expect(listed).toEqual(slots.map((slot) => new Date(slot).toISOString()));
  });

  it('slotsBetween is bounded', () => {
    const slots = slotsBetween('* * * * * *', KYIV, new Date('2025-01-01T00:00:00Z'), new Date('2025-12-31T00:00:00Z'), 50);
    expect(slots).toHaveLength(50);
    expect(slots.at(-1)?.toISOString()).toBe('2025-01-01T00:00:50.000Z');
  });

  it.each([
    { zone: KYIV, cron: '0 30 3 * * *', at: '2025-03-30T01:00:00Z', latest: '2025-03-30T01:00:00Z' },
    { zone: KYIV, cron: '0 30 3 * * *', at: '2025-03-30T00:59:59Z', latest: '2025-03-29T01:30:00Z' },
    { zone: KYIV, cron: '0 30 3 * * *', at: '2025-10-26T01:45:00Z', latest: '2025-10-26T00:30:00Z' },
    { zone: NEW_YORK, cron: '30 1 * * *', at: '2025-11-02T06:45:00Z', latest: '2025-11-02T05:30:00Z' },
    { zone: NEW_YORK, cron: '30 2 * * *', at: '2026-03-08T08:00:00Z', latest: '2026-03-08T07:00:00Z' },
  ])('previousSlot (the due slot) of $cron in $zone at $at is $latest', ({ zone, cron, at, latest }) => {
    expect(previousSlot(cron, zone, new Date(at))?.toISOString()).toBe(new Date(latest).toISOString());
  });

  it('upcomingSlots lists the next slots', () => {
    const slots = upcomingSlots('0 0 7 * * *', KYIV, new Date('2025-03-29T06:00:00Z'), 3).map((slot) => slot.toISOString());
    expect(slots).toEqual(['2025-03-30T04:00:00.000Z', '2025-03-31T04:00:00.000Z', '2025-04-01T04:00:00.000Z']);
  });
});

describe('slotId', () => {
  it.each([
    { cron: '0 0 7 * * *', slot: '2025-07-23T04:00:00Z', id: '2025-07-23' },
    // The date is the zone's, not UTC's.
    { cron: '30 0 * * *', slot: '2025-07-22T21:30:00Z', id: '2025-07-23' },
    { cron: '0 30 3 * * *', slot: '2025-03-30T01:00:00Z', id: '2025-03-30' },
    { cron: '0 7,19 * * *', slot: '2025-07-23T16:00:00Z', id: '2025-07-23T19:00' },
    { cron: '*/3 * * * * *', slot: '2025-07-23T16:00:03Z', id: '2025-07-23T19:00:03' },
    { cron: '0 30 * * * *', slot: '2025-10-26T00:30:00Z', id: '2025-10-26T03:30' },
  ])('$cron at $slot is edition $id', ({ cron, slot, id }) => {
    expect(slotId(cron, KYIV, new Date(slot))).toBe(id);
  });
});

describe('parseCron', () => {
  it.each(['x', '0 0 25 * * *', '0 0 7 31 2 *', '* * * * * * *', '0 0 7 * * 9', '<script>'])('refuses %s with a schedule error', (cron) => {
    expect(() => parseCron(cron)).toThrow(/^schedule: schedule\.cron ".*" is not a cron expression/);
  });

  // node-cron fires; our walk decides the slot. Outside DST changes both must agree on which
  // instants match, for every field syntax node-cron accepts (L, W, #, ranges, steps, names).
  it('matches exactly the instants node-cron matches', () => {
    const seconds = fc.constantFrom('0', '*/20', '5,35', '*');
    const minutes = fc.constantFrom('0', '*/15', '10-20', '*');
    const hours = fc.constantFrom('7', '*/6', '22-2', '*');
    const daysOfMonth = fc.constantFrom('*', '1', 'L', 'LW', '15W', 'L-2', '1-10', '?');
    const months = fc.constantFrom('*', 'jan,feb', '3-5', '*/2', '12');
    const daysOfWeek = fc.constantFrom('*', '1-5', 'sun', '1#2', '5L', '0,6', '7');
    const instant = fc.integer({ min: Date.parse('2024-01-01T00:00:00Z') / 1000, max: Date.parse('2027-12-31T00:00:00Z') / 1000 });
    fc.assert(
      fc.property(seconds, minutes, hours, daysOfMonth, months, daysOfWeek, instant, (s, m, h, dom, mon, dow, epochSecond) => {
        const cron = [s, m, h, dom, mon, dow].join(' ');
        const pattern = parseCron(cron);
        const at = new Date(epochSecond * 1000);
        const local = DateTime.fromJSDate(at, { zone: NEW_YORK });
        const ours =
          pattern.seconds.includes(local.second) &&
          pattern.minutes.includes(local.minute) &&
          pattern.hours.includes(local.hour) &&
          pattern.matchesDay(local.year, local.month, local.day);
        const task = createTask(cron, () => undefined, { timezone: NEW_YORK });
        try {
          expect(ours).toBe(task.match(at));
        } finally {
          void task.destroy();
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('nextSlot lands on an instant node-cron matches, and previousSlot finds it again', () => {
    const cron = fc.constantFrom('0 0 7 * * *', '0 */15 9-17 * * 1-5', '0 0 12 L * *', '0 30 6 * * 1#2', '*/7 * * * * *', '0 0 0 29 2 *');
    const instant = fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') });
    fc.assert(
      fc.property(cron, instant, (expression, epoch) => {
        const now = new Date(epoch);
        const slot = nextSlot(expression, KYIV, now);
        expect(slot.getTime()).toBeGreaterThan(epoch);
        expect(previousSlot(expression, KYIV, slot)?.getTime()).toBe(slot.getTime());
        expect(previousSlot(expression, KYIV, new Date(slot.getTime() - 1))?.getTime() ?? 0).toBeLessThanOrEqual(epoch);
        const local = DateTime.fromJSDate(slot, { zone: KYIV });
        const onTransitionDay = local.startOf('day').offset !== local.endOf('day').offset;
        if (!onTransitionDay) {
          const task = createTask(expression, () => undefined, { timezone: KYIV });
          try {
            expect(task.match(slot)).toBe(true);
          } finally {
            void task.destroy();
          }
        }
      }),
      { numRuns: 120 },
    );
  });
});
