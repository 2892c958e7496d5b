import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { slotSkipper } from '../../src/run/slot-run.js';
import { createScheduler, summaryCounts } from '../../src/schedule/scheduler.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { FakeTime, ManualFires, until } from './support/fake-time.js';
import { captureLogs } from './support/log-capture.js';

let directory: string;
let store: Store;

beforeEach(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'briefing-stop-summary-'));
  store = await openStoreAt({ kind: 'sqlite', file: path.join(directory, 'briefing.db') });
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

it('the stop summary counts runs skipped for nothing new as skipped, not "0 skipped"', async () => {
  const time = new FakeTime('2025-07-23T03:00:00Z');
  const fires = new ManualFires();
  const logs = captureLogs();
  let runs = 0;
  const scheduler = createScheduler({
    cron: '0 0 7 * * *',
    zone: 'Europe/Kyiv',
    catchUpMinutes: 60,
    editions: store,
    skipSlot: slotSkipper(store),
    // As the real pipeline does for an edition with nothing new: record it skipped, say so.
    runSlot: async (target) => {
      runs += 1;
      await store.createEdition({ id: target.id, slot: target.slot, status: 'skipped', cutoff: target.slot, subject: '', note: 'nothing new', memory: null }, time.now());
      return { status: 'skipped', details: { note: 'nothing new' } };
    },
    clock: time,
    timer: time,
    fires,
    logger: logs.logger,
  });
  await scheduler.start();
  for (const day of ['23', '24']) {
    await time.advanceTo(`2025-07-${day}T04:00:00.020Z`);
    fires.fire(`2025-07-${day}T04:00:00Z`);
    await until(() => runs === (day === '23' ? 1 : 2), 'the run');
  }
  const summary = await scheduler.stop();
  // The 22 July slot, missed before start and outside the catch-up window, is the third skip.
  expect(await store.getEdition('2025-07-22')).toMatchObject({ status: 'skipped', note: 'missed: outside catch-up window' });
  expect(summary).toMatchObject({ runs: 2, skipped: 3, failed: 0 });
  expect(summaryCounts(summary)).toBe('2 runs, 3 skipped, 0 failed');
  expect(summaryCounts({ runs: 1, skipped: 0, failed: 0 })).toBe('1 run, 0 skipped, 0 failed');
});
