import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { formatScheduleStatus, readScheduleStatus } from '../../src/schedule/schedule-status.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';

let directory: string;
let store: Store;

beforeEach(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'briefing-status-'));
  store = await openStoreAt({ kind: 'sqlite', file: path.join(directory, 'briefing.db') });
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

it('shows the next slots (across the spring change) and the newest editions', async () => {
  const record = (id: string, slot: string, status: 'sent' | 'skipped', note: string | null) =>
    store.createEdition({ id, slot: new Date(slot), status, cutoff: new Date(slot), subject: `Edition ${id}`, note, memory: null }, new Date(slot));
  await record('2025-03-27', '2025-03-27T05:00:00Z', 'sent', null);
  await record('2025-03-28', '2025-03-28T05:00:00Z', 'skipped', 'missed: outside catch-up window');

  const status = await readScheduleStatus({
    cron: '0 0 7 * * *',
    zone: 'Europe/Kyiv',
    now: new Date('2025-03-28T12:00:00Z'),
    editions: store,
    nextCount: 3,
    lastCount: 5,
  });
  expect(status.next).toEqual([
    { id: '2025-03-29', slot: '2025-03-29T05:00:00.000Z', local: '2025-03-29T07:00:00+02:00' },
    { id: '2025-03-30', slot: '2025-03-30T04:00:00.000Z', local: '2025-03-30T07:00:00+03:00' },
    { id: '2025-03-31', slot: '2025-03-31T04:00:00.000Z', local: '2025-03-31T07:00:00+03:00' },
  ]);
  expect(status.last.map((edition) => [edition.id, edition.status, edition.note])).toEqual([
    ['2025-03-28', 'skipped', 'missed: outside catch-up window'],
    ['2025-03-27', 'sent', null],
  ]);
  expect(formatScheduleStatus(status)).toEqual([
    'schedule: "0 0 7 * * *" in Europe/Kyiv',
    'next: 2025-03-29 07:00 EET  edition 2025-03-29',
    '      2025-03-30 07:00 EEST  edition 2025-03-30',
    '      2025-03-31 07:00 EEST  edition 2025-03-31',
    'last editions:',
    '  2025-03-28  skipped  2025-03-28 07:00 EET  (missed: outside catch-up window)',
    '  2025-03-27  sent     2025-03-27 07:00 EET',
  ]);
});
