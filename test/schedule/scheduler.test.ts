import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slotSkipper } from '../../src/run/slot-run.js';
import { createScheduler, type Scheduler, type SchedulerDependencies } from '../../src/schedule/scheduler.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { FakeTime, ManualFires, until } from './support/fake-time.js';
import { captureLogs } from './support/log-capture.js';
import { RecordedRuns } from './support/recorded-runs.js';

const KYIV = 'Europe/Kyiv';

let directory: string;
let store: Store;

beforeEach(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'briefing-scheduler-'));
  store = await openStoreAt({ kind: 'sqlite', file: path.join(directory, 'briefing.db') });
});

afterEach(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

function setUp(options: { start: string; cron: string; catchUpMinutes?: number; drainMs?: number }) {
  const time = new FakeTime(options.start);
  const fires = new ManualFires();
  const runs = new RecordedRuns(store, time);
  const logs = captureLogs();
  const dependencies: SchedulerDependencies = {
    cron: options.cron,
    zone: KYIV,
    catchUpMinutes: options.catchUpMinutes ?? 60,
    editions: store,
    skipSlot: slotSkipper(store),
    runSlot: runs.runSlot,
    clock: time,
    timer: time,
    fires,
    logger: logs.logger,
    drainMs: options.drainMs ?? 30_000,
  };
  const scheduler: Scheduler = createScheduler(dependencies);
  return { time, fires, runs, logs, scheduler };
}

describe('scheduler on a fake clock', () => {
  it('runs a fired slot once at its scheduled time, and arms the backstop for the next slot', async () => {
    const { time, fires, runs, logs, scheduler } = setUp({ start: '2025-07-23T03:00:00Z', cron: '0 0 7 * * *' });
    await scheduler.start();
    expect(runs.calls).toEqual([]);
    expect(time.pending()).toEqual(['2025-07-23T04:00:01.000Z']);
    await time.advanceTo('2025-07-23T04:00:00.020Z');
    // node-cron reports the scheduled time, not the moment its callback ran.
    fires.fire('2025-07-23T04:00:00Z');
    await time.advanceTo('2025-07-23T04:00:05Z');
    await until(() => runs.active === 0 && runs.calls.length === 1, 'the run');
    expect(runs.ids()).toEqual(['2025-07-23']);
    expect(runs.calls[0]?.slot.toISOString()).toBe('2025-07-23T04:00:00.000Z');
    expect(logs.events('fire')).toEqual([expect.objectContaining({ source: 'cron', edition: '2025-07-23', local: '2025-07-23T07:00:00.000+03:00' })]);
    expect(logs.events('run')).toEqual([expect.objectContaining({ edition: '2025-07-23', status: 'sent', reason: 'fire' })]);
    expect(time.pending()).toEqual(['2025-07-24T04:00:01.000Z']);
    await scheduler.stop();
  });

  it('runs a slot once when node-cron fires late, after the backstop timer ran it', async () => {
    const { time, fires, runs, logs, scheduler } = setUp({ start: '2025-07-23T03:00:00Z', cron: '0 0 7 * * *' });
    await scheduler.start();
    await time.advanceTo('2025-07-23T04:00:03Z');
    fires.fire('2025-07-23T04:00:00Z');
    await time.advanceTo('2025-07-23T04:00:05Z');
    await until(() => runs.active === 0 && runs.calls.length === 1, 'the run');
    expect(runs.ids()).toEqual(['2025-07-23']);
    expect(logs.events('fire')).toEqual([expect.objectContaining({ source: 'timer', edition: '2025-07-23' })]);
    expect(logs.events('fire-duplicate')).toEqual([expect.objectContaining({ source: 'cron', edition: '2025-07-23' })]);
    await scheduler.stop();
  });

  it('runs a slot inside the skipped hour once at 04:00, though node-cron never fires for it', async () => {
    const { time, runs, logs, scheduler } = setUp({ start: '2025-03-29T22:00:00Z', cron: '0 30 3 * * *' });
    await scheduler.start();
    await time.advanceTo('2025-03-30T02:00:00Z');
    await until(() => runs.active === 0 && runs.calls.length === 1, 'the run');
    expect(runs.calls.map((call) => [call.id, call.slot.toISOString()])).toEqual([['2025-03-30', '2025-03-30T01:00:00.000Z']]);
    expect(logs.events('fire')).toEqual([expect.objectContaining({ source: 'timer', local: '2025-03-30T04:00:00.000+03:00' })]);
    await scheduler.stop();
  });

  it('runs a slot inside the repeated hour once: at its first occurrence, not when node-cron fires at the second', async () => {
    const { time, fires, runs, scheduler } = setUp({ start: '2025-10-25T22:00:00Z', cron: '0 30 3 * * *' });
    await scheduler.start();
    await time.advanceTo('2025-10-26T00:30:00Z');
    fires.fire('2025-10-26T00:30:00Z');
    await time.advanceTo('2025-10-26T01:30:00Z');
    // node-cron's own walk fires 03:30 at its second occurrence (+02:00).
    fires.fire('2025-10-26T01:30:00Z');
    await time.advanceTo('2025-10-26T02:00:00Z');
    await until(() => runs.active === 0, 'the run');
    expect(runs.calls.map((call) => [call.id, call.slot.toISOString()])).toEqual([['2025-10-26', '2025-10-26T00:30:00.000Z']]);
    await scheduler.stop();
  });

  it('never overlaps runs: a fire during a run waits; a later one replaces it and the replaced slot is recorded skipped', async () => {
    const { time, fires, runs, logs, scheduler } = setUp({ start: '2025-07-23T06:59:00Z', cron: '0 * * * *' });
    await scheduler.start();
    runs.holding = true;
    await time.advanceTo('2025-07-23T07:00:00Z');
    fires.fire('2025-07-23T07:00:00Z');
    await until(() => runs.waitingToFinish === 1, 'the first run to start');
    await time.advanceTo('2025-07-23T08:00:00Z');
    fires.fire('2025-07-23T08:00:00Z');
    await time.advanceTo('2025-07-23T09:00:00Z');
    fires.fire('2025-07-23T09:00:00Z');
    await time.advanceTo('2025-07-23T09:10:00Z');
    // The catch-up on start ran 09:00 (Kyiv); of the three fires only the first has run.
    expect(runs.ids()).toEqual(['2025-07-23T09:00', '2025-07-23T10:00']);
    expect(logs.events('wait').map((line) => line.edition)).toEqual(['2025-07-23T11:00', '2025-07-23T12:00']);
    await until(async () => (await store.getEdition('2025-07-23T11:00'))?.status === 'skipped', 'the replaced slot to be recorded');
    expect((await store.getEdition('2025-07-23T11:00'))?.note).toBe('overlap: superseded by 2025-07-23T12:00 while a run was in progress');
    runs.release();
    await until(() => runs.waitingToFinish === 1, 'the waiting run to start');
    runs.release();
    await until(() => runs.active === 0 && runs.calls.length === 3, 'the runs to finish');
    expect(runs.ids()).toEqual(['2025-07-23T09:00', '2025-07-23T10:00', '2025-07-23T12:00']);
    expect(runs.maxActive).toBe(1);
    await scheduler.stop();
  });

  it('records a waiting slot skipped when the run before it outlasted the catch-up window', async () => {
    const { time, fires, runs, scheduler } = setUp({ start: '2025-07-23T03:59:00Z', cron: '0 0 7,8 * * *', catchUpMinutes: 30 });
    await scheduler.start();
    runs.holding = true;
    await time.advanceTo('2025-07-23T04:00:00Z');
    fires.fire('2025-07-23T04:00:00Z');
    await until(() => runs.waitingToFinish === 1, 'the first run');
    await time.advanceTo('2025-07-23T05:00:00Z');
    fires.fire('2025-07-23T05:00:00Z');
    await time.advanceTo('2025-07-23T05:45:00Z');
    runs.release();
    await until(async () => (await store.getEdition('2025-07-23T08:00'))?.status === 'skipped', 'the stale slot to be skipped');
    expect((await store.getEdition('2025-07-23T08:00'))?.note).toBe('missed: outside catch-up window');
    expect(runs.ids()).toEqual(['2025-07-23T07:00']);
    await scheduler.stop();
  });

  it('resumes an unfinished edition on start', async () => {
    await store.createEdition(
      { id: '2025-07-22', slot: new Date('2025-07-22T04:00:00Z'), status: 'sending', cutoff: new Date('2025-07-22T04:00:00Z'), subject: 'x', note: null, memory: null },
      new Date('2025-07-22T04:00:01Z'),
    );
    await store.createEdition(
      { id: '2025-07-23', slot: new Date('2025-07-23T04:00:00Z'), status: 'planned', cutoff: new Date('2025-07-23T04:00:00Z'), subject: 'x', note: null, memory: null },
      new Date('2025-07-23T04:00:01Z'),
    );
    const { runs, logs, scheduler } = setUp({ start: '2025-07-23T05:00:00Z', cron: '0 0 7 * * *' });
    await scheduler.start();
    expect(runs.ids()).toEqual(['2025-07-22', '2025-07-23']);
    expect(logs.events('resume').map((line) => [line.edition, line.status])).toEqual([
      ['2025-07-22', 'sending'],
      ['2025-07-23', 'planned'],
    ]);
    // The due slot has its edition now: nothing to catch up.
    expect(logs.events('catch-up')).toEqual([]);
    await scheduler.stop();
  });

  it('resumes an edition a failed run left unfinished before the next slot\'s run, not only on the next start', async () => {
    const { time, fires, runs, logs, scheduler } = setUp({ start: '2025-07-23T06:59:00Z', cron: '0 * * * *' });
    await scheduler.start();
    runs.failing.add('2025-07-23T10:00');
    await time.advanceTo('2025-07-23T07:00:00Z');
    fires.fire('2025-07-23T07:00:00Z');
    await until(() => logs.events('run-failed').length === 1, 'the failed run');
    expect((await store.getEdition('2025-07-23T10:00'))?.status).toBe('sending');
    await time.advanceTo('2025-07-23T08:00:00Z');
    fires.fire('2025-07-23T08:00:00Z');
    await until(() => runs.active === 0 && logs.events('run').length === 3, 'the resumed and the new run');
    expect(runs.ids()).toEqual(['2025-07-23T09:00', '2025-07-23T10:00', '2025-07-23T10:00', '2025-07-23T11:00']);
    expect(logs.events('resume').map((line) => line.edition)).toEqual(['2025-07-23T10:00']);
    expect((await store.getEdition('2025-07-23T10:00'))?.status).toBe('sent');
    await scheduler.stop();
  });

  it('on SIGTERM stops taking new work, lets the run in flight finish, and drops the waiting slot', async () => {
    const { time, fires, runs, logs, scheduler } = setUp({ start: '2025-07-23T06:59:00Z', cron: '0 * * * *' });
    await scheduler.start();
    runs.holding = true;
    await time.advanceTo('2025-07-23T07:00:00Z');
    fires.fire('2025-07-23T07:00:00Z');
    await until(() => runs.waitingToFinish === 1, 'the run');
    await time.advanceTo('2025-07-23T08:00:00Z');
    fires.fire('2025-07-23T08:00:00Z');
    let stopped = false;
    const stopping = scheduler.stop().then((summary) => {
      stopped = true;
      return summary;
    });
    await time.advanceTo('2025-07-23T08:00:10Z');
    expect(runs.signals[1]?.aborted).toBe(true);
    expect(stopped).toBe(false);
    fires.fire('2025-07-23T09:00:00Z');
    runs.release();
    const summary = await stopping;
    expect(summary).toMatchObject({ runs: 2, caughtUp: 1, abandoned: false });
    expect(runs.ids()).toEqual(['2025-07-23T09:00', '2025-07-23T10:00']);
    expect(fires.stopped).toBe(1);
    expect(time.pending()).toEqual([]);
    expect(logs.events('drop').map((line) => line.edition)).toEqual(['2025-07-23T11:00']);
    expect(logs.events('summary')).toHaveLength(1);
    // Left unrecorded: the next start's catch-up decides about it.
    expect(await store.getEdition('2025-07-23T11:00')).toBeUndefined();
  });

  it('gives up waiting for a run after the drain time and says the edition will be resumed', async () => {
    const { time, fires, runs, logs, scheduler } = setUp({ start: '2025-07-23T06:59:00Z', cron: '0 * * * *', drainMs: 30_000 });
    await scheduler.start();
    runs.holding = true;
    await time.advanceTo('2025-07-23T07:00:00Z');
    fires.fire('2025-07-23T07:00:00Z');
    await until(() => runs.waitingToFinish === 1, 'the run');
    const stopping = scheduler.stop();
    await time.advanceTo('2025-07-23T07:00:31Z');
    expect(await stopping).toMatchObject({ abandoned: true });
    expect(logs.events('drain-timeout')).toHaveLength(1);
    expect((await store.getEdition('2025-07-23T10:00'))?.status).toBe('sending');
    runs.release();
    await until(() => runs.active === 0, 'the abandoned run');
  });
});

describe('catch-up on start (fake clock)', () => {
  it('runs the missed slot once when it is inside the window', async () => {
    const { runs, logs, scheduler } = setUp({ start: '2025-07-23T04:50:00Z', cron: '0 0 7 * * *', catchUpMinutes: 60 });
    await scheduler.start();
    expect(runs.ids()).toEqual(['2025-07-23']);
    expect(logs.events('catch-up')).toEqual([expect.objectContaining({ action: 'run', edition: '2025-07-23', lateMinutes: 50, olderMissed: '0' })]);
    await scheduler.stop();
  });

  it('records the missed slot skipped when it is outside the window, and runs none of the older ones', async () => {
    await store.createEdition(
      { id: '2025-07-18', slot: new Date('2025-07-18T04:00:00Z'), status: 'sent', cutoff: new Date('2025-07-18T04:00:00Z'), subject: 'x', note: null, memory: null },
      new Date('2025-07-18T04:00:01Z'),
    );
    const { runs, logs, scheduler } = setUp({ start: '2025-07-23T05:30:00Z', cron: '0 0 7 * * *', catchUpMinutes: 60 });
    await scheduler.start();
    expect(runs.calls).toEqual([]);
    const skipped = await store.getEdition('2025-07-23');
    expect(skipped).toMatchObject({ status: 'skipped', note: 'missed: outside catch-up window' });
    expect(skipped?.slot.toISOString()).toBe('2025-07-23T04:00:00.000Z');
    // 19th–22nd were missed too: counted, never recorded, never run.
    expect(logs.events('catch-up')).toEqual([expect.objectContaining({ action: 'skip', lateMinutes: 90, olderMissed: '4' })]);
    for (const day of ['19', '20', '21', '22']) expect(await store.getEdition(`2025-07-${day}`)).toBeUndefined();
    expect(logs.events('skip')).toEqual([expect.objectContaining({ edition: '2025-07-23', note: 'missed: outside catch-up window', recorded: true })]);
    await scheduler.stop();
  });

  it('does nothing when the due slot already has an edition', async () => {
    await store.createEdition(
      { id: '2025-07-23', slot: new Date('2025-07-23T04:00:00Z'), status: 'sent', cutoff: new Date('2025-07-23T04:00:00Z'), subject: 'x', note: null, memory: null },
      new Date('2025-07-23T04:00:01Z'),
    );
    const { runs, logs, scheduler } = setUp({ start: '2025-07-23T04:30:00Z', cron: '0 0 7 * * *' });
    await scheduler.start();
    expect(runs.calls).toEqual([]);
    expect(logs.events('catch-up')).toEqual([]);
    await scheduler.stop();
  });
});
