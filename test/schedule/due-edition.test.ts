import { describe, expect, it } from 'vitest';
import { contentChanges } from '../../src/run/load-content.js';
import { chooseDueEdition } from '../../src/schedule/due-edition.js';

// The shipped schedule: an evening edition at 21:00 Kyiv time (18:00Z in summer, 19:00Z in winter).
const base = { cron: '0 0 21 * * *', zone: 'Europe/Kyiv', firstLookBackHours: 48 };
// The sample content: a preview at 12:58 and a wrap-up at 20:30, Kyiv time, July 23, 2025.
const articles = [{ published: new Date('2025-07-23T09:58:11Z') }, { published: new Date('2025-07-23T17:30:00Z') }];

describe('chooseDueEdition', () => {
  it.each([
    // A fresh store long after the content: the first edition is the one due after the newest story.
    // At 12:00 in Kyiv the due edition is the previous evening's.
    { now: '2026-11-25T10:00:00Z', firstEdition: true, id: '2025-07-23', reason: 'newest-content', due: '2026-11-24' },
    // Not the first edition: the due one, even though it has nothing new (it is skipped, not moved).
    { now: '2026-11-25T10:00:00Z', firstEdition: false, id: '2026-11-24', reason: 'due', due: undefined },
    // The due edition's window holds the content: it is the due one.
    { now: '2025-07-23T19:00:00Z', firstEdition: true, id: '2025-07-23', reason: 'due', due: undefined },
    { now: '2025-07-24T19:00:00Z', firstEdition: true, id: '2025-07-24', reason: 'due', due: undefined },
    // Content newer than the due slot is never pulled forward: before 21:00 on the 23rd the 22nd is due.
    { now: '2025-07-23T17:45:00Z', firstEdition: true, id: '2025-07-22', reason: 'due', due: undefined },
  ])('at $now (first edition: $firstEdition) plans $id ($reason)', ({ now, firstEdition, id, reason, due }) => {
    const chosen = chooseDueEdition({ ...base, now: new Date(now), content: contentChanges(articles), firstEdition });
    expect(chosen?.target.id).toBe(id);
    expect(chosen?.reason).toBe(reason);
    expect(chosen?.due?.id).toBe(due);
  });

  it('uses the last change: an update after the slot moves the first edition to the next day', () => {
    // Updated at 21:10 Kyiv time, after the 23rd's slot.
    const updatedLate = [{ published: new Date('2025-07-23T09:58:11Z'), updated: new Date('2025-07-23T18:10:00Z') }];
    const chosen = chooseDueEdition({ ...base, now: new Date('2026-01-10T10:00:00Z'), content: contentChanges(updatedLate), firstEdition: true });
    expect(chosen?.target).toEqual({ id: '2025-07-24', slot: new Date('2025-07-24T18:00:00Z') });
  });

  it('plans the due edition when there is no content at all', () => {
    const chosen = chooseDueEdition({ ...base, now: new Date('2026-01-10T10:00:00Z'), content: contentChanges([]), firstEdition: true });
    expect(chosen).toMatchObject({ target: { id: '2026-01-09' }, reason: 'due' });
  });
});
