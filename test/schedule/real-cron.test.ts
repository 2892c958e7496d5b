import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cronFires } from '../../src/schedule/cron-fires.js';
import { slotSkipper } from '../../src/run/slot-run.js';
import { createScheduler } from '../../src/schedule/scheduler.js';
import { systemTimer } from '../../src/schedule/system-timer.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { until } from './support/fake-time.js';
import { captureLogs } from './support/log-capture.js';
import { RecordedRuns } from './support/recorded-runs.js';

let directory: string;
let store: Store;

beforeEach(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'briefing-real-cron-'));
  store = await openStoreAt({ kind: 'sqlite', file: path.join(directory, 'briefing.db') });
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

it('follows a real every-2-seconds node-cron: one run per slot, named by the scheduled second, never overlapping', async () => {
  const zone = 'America/New_York';
  const clock = { now: () => new Date() };
  const runs = new RecordedRuns(store, clock);
  const logs = captureLogs();
  const cron = '*/2 * * * * *';
  const scheduler = createScheduler({
    cron,
    zone,
    catchUpMinutes: 0,
    editions: store,
    skipSlot: slotSkipper(store),
    runSlot: runs.runSlot,
    clock,
    timer: systemTimer(),
    fires: cronFires(cron, zone, logs.logger),
    logger: logs.logger,
  });
  await scheduler.start();
  await until(() => logs.events('run').filter((line) => line.reason === 'fire').length >= 3, 'three runs');
  const summary = await scheduler.stop();

  const fired = runs.calls.filter((call) => logs.events('run').some((line) => line.edition === call.id && line.reason === 'fire'));
  expect(fired.length).toBeGreaterThanOrEqual(3);
  for (const call of fired) {
    // The slot is the scheduled even second, not the moment the callback ran.
    expect(call.slot.getMilliseconds()).toBe(0);
    expect(call.slot.getSeconds() % 2).toBe(0);
    expect(call.id).toBe(DateTime.fromJSDate(call.slot, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss"));
  }
  expect(new Set(runs.ids()).size).toBe(runs.calls.length);
  expect(runs.maxActive).toBe(1);
  // node-cron drove the fires; the backstop timer only stood by.
  expect(logs.events('fire').filter((line) => line.source === 'cron').length).toBeGreaterThanOrEqual(3);
  expect(summary.failed).toBe(0);
  const records = await store.listEditions(50);
  expect(records.filter((record) => record.status === 'sent').map((record) => record.id).sort()).toEqual(runs.ids().sort());
});
