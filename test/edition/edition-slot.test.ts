import { describe, expect, it } from 'vitest';
import { resolveEditionSlot } from '../../src/edition/edition-slot.js';
import { planEdition } from '../../src/edition/plan-edition.js';
import { BriefingError } from '../../src/errors.js';
import { makeArticle } from './fixtures.js';

const ZONE = 'Europe/Kyiv';
const DAILY_AT_7 = '0 0 7 * * *';
const NOW = new Date('2026-01-01T00:00:00Z');

describe('resolveEditionSlot', () => {
  it.each([
    // Kyiv in summer (UTC+3) and winter (UTC+2).
    ['2025-07-23', DAILY_AT_7, '2025-07-23', '2025-07-23T04:00:00.000Z'],
    ['2025-01-15', DAILY_AT_7, '2025-01-15', '2025-01-15T05:00:00.000Z'],
    // Clocks go forward at 03:00 on 30 March and back at 04:00 on 26 October 2025.
    ['2025-03-30', DAILY_AT_7, '2025-03-30', '2025-03-30T04:00:00.000Z'],
    ['2025-10-26', DAILY_AT_7, '2025-10-26', '2025-10-26T05:00:00.000Z'],
    // Midnight in Kyiv is the evening before in UTC: the edition keeps the Kyiv date.
    ['2025-10-26', '0 0 0 * * *', '2025-10-26', '2025-10-25T21:00:00.000Z'],
    // 03:30 does not exist on 30 March: the first instant after the gap. It exists twice on 26 October: the first.
    ['2025-03-30', '0 30 3 * * *', '2025-03-30', '2025-03-30T01:00:00.000Z'],
    ['2025-10-26', '0 30 3 * * *', '2025-10-26', '2025-10-26T00:30:00.000Z'],
    // A slot id names its wall time.
    ['2025-07-23T18:30', '0 30 6,18 * * *', '2025-07-23T18:30', '2025-07-23T15:30:00.000Z'],
  ])('--date %s with cron %s is edition %s at %s', (date, cron, id, slot) => {
    const resolved = resolveEditionSlot({ cron, zone: ZONE, now: NOW, date });
    expect([resolved.id, resolved.slot.toISOString()]).toEqual([id, slot]);
  });

  it.each([
    ['2025-03-30T03:59:59Z', '2025-03-29'],
    ['2025-03-30T04:00:00Z', '2025-03-30'],
    ['2025-10-26T04:59:59Z', '2025-10-25'],
    ['2025-10-26T05:00:00Z', '2025-10-26'],
  ])('at %s the due edition is %s (the latest slot that has come)', (now, id) => {
    expect(resolveEditionSlot({ cron: DAILY_AT_7, zone: ZONE, now: new Date(now) }).id).toBe(id);
  });

  it.each(['2025-02-30', '2025-7-1', 'yesterday', '2025-07-23T25:00', ''])('refuses --date %j with a usage error', (date) => {
    expect(() => resolveEditionSlot({ cron: DAILY_AT_7, zone: ZONE, now: NOW, date })).toThrow(BriefingError);
    try {
      resolveEditionSlot({ cron: DAILY_AT_7, zone: ZONE, now: NOW, date });
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid-date', exitCode: 2 });
      expect((error as Error).message).toMatch(/^edition: --date ".*" is not a date/);
    }
  });
});

describe('editions dated on the nights the clocks change in Kyiv', () => {
  it.each([
    // The day before's 07:00 slot to this 07:00 slot: 23 hours in spring, 25 in autumn.
    ['2025-03-30', '2025-03-29', 23],
    ['2025-10-26', '2025-10-25', 25],
  ])('edition %s follows edition %s after %i hours and takes the articles of exactly that window', (date, previousDate, hours) => {
    const previous = resolveEditionSlot({ cron: DAILY_AT_7, zone: ZONE, now: NOW, date: previousDate });
    const { id, slot } = resolveEditionSlot({ cron: DAILY_AT_7, zone: ZONE, now: NOW, date });
    const at = (offsetMs: number): string => new Date(slot.getTime() + offsetMs).toISOString();
    const articles = [
      { id: 'last-of-previous', published: previous.slot.toISOString() },
      { id: 'first-of-window', published: new Date(previous.slot.getTime() + 1000).toISOString() },
      { id: 'at-slot', published: at(0) },
      { id: 'after-slot', published: at(1000) },
    ].map((spec) => makeArticle({ ...spec, body: `Paragraph of ${spec.id}.`, topics: { '': ['talks'] } }));
    const edition = planEdition({
      id,
      slot,
      timeZone: ZONE,
      siteUrl: 'https://briefing.example.org/',
      articles,
      topics: [{ id: 'talks', title: 'Peace talks' }],
      settings: { firstLookBackHours: 48, generalSection: true, generalTitle: 'Also' },
      previous: { cutoff: previous.slot, memory: { told: {}, sent: {} } },
    });
    expect(edition.date).toBe(date);
    expect((edition.window.until.getTime() - edition.window.since.getTime()) / 3_600_000).toBe(hours);
    expect(edition.sections[0]?.items.map((item) => item.articleId).sort()).toEqual(['at-slot', 'first-of-window']);
  });

  it('measures the first look-back in real hours across the change', () => {
    const { slot } = resolveEditionSlot({ cron: DAILY_AT_7, zone: ZONE, now: NOW, date: '2025-03-30' });
    const edition = planEdition({
      id: '2025-03-30',
      slot,
      timeZone: ZONE,
      siteUrl: 'https://briefing.example.org/',
      articles: [],
      topics: [],
      settings: { firstLookBackHours: 48, generalSection: true, generalTitle: 'Also' },
      previous: undefined,
    });
    // 48 hours before 07:00 EEST on the 30th is 06:00 EET on the 28th.
    expect(edition.window.since.toISOString()).toBe('2025-03-28T04:00:00.000Z');
  });
});
