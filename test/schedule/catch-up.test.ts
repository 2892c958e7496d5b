import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSite } from '../../src/run/build-site.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createTransport } from '../../src/delivery/create-transport.js';
import { planCatchUp } from '../../src/schedule/catch-up.js';
import { slotRunner, slotSkipper } from '../../src/run/slot-run.js';
import { createScheduler } from '../../src/schedule/scheduler.js';
import type { Store } from '../../src/store/store.js';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { FakeTime, ManualFires } from './support/fake-time.js';
import { captureLogs } from './support/log-capture.js';
import { copiesPerSubscriber, openWorkspaceStore } from './support/schedule-process.js';

const SUBSCRIBERS = 5;

let workspace: Workspace;
let server: SmtpTestServer;
let store: Store;
let config: Config;

beforeEach(async () => {
  workspace = await createWorkspace({
    subscribers: SUBSCRIBERS,
    configure: (file) => {
      file.schedule = { cron: '0 0 21 * * *', catchUpMinutes: 60 };
    },
  });
  server = await startSmtpTestServer();
  store = await openWorkspaceStore(workspace);
  config = loadConfig(workspace.configFile, { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'catch-up-test-secret-0123456789' });
});

afterEach(async () => {
  await store.close();
  await server.close();
  workspace.remove();
});

/** The real scheduler and the real pipeline (content, site build, planning, rendering, SMTP), on a fake clock. */
async function startAt(now: string) {
  const time = new FakeTime(now);
  const logs = captureLogs();
  const scheduler = createScheduler({
    cron: config.schedule.cron,
    zone: config.timeZone,
    catchUpMinutes: config.schedule.catchUpMinutes,
    editions: store,
    runSlot: slotRunner({
      config,
      store,
      clock: time,
      logger: logs.logger,
      interactive: false,
      createTransport: async (editionId) => createTransport(config, editionId, logs.logger),
      dkim: undefined,
      buildSite: () => buildSite(config),
    }),
    skipSlot: slotSkipper(store),
    clock: time,
    timer: time,
    fires: new ManualFires(),
    logger: logs.logger,
  });
  await scheduler.start();
  await scheduler.stop();
  expect(logs.events('run-failed')).toEqual([]);
  return logs;
}

describe('catch-up on start, with the real pipeline and SMTP server', () => {
  it('runs a slot missed inside the window once, and a restart does not run it again', async () => {
    // 21:40 in Kyiv: the 21:00 edition was missed 40 minutes ago, inside the 60-minute window.
    const logs = await startAt('2025-07-23T18:40:00Z');
    expect(logs.events('catch-up')).toEqual([expect.objectContaining({ action: 'run', edition: '2025-07-23', lateMinutes: 40 })]);
    const edition = await store.getEdition('2025-07-23');
    expect(edition?.status).toBe('sent');
    expect(edition?.subject).toMatch(/Wednesday 23 July 2025/);
    const copies = copiesPerSubscriber(server, edition!);
    expect([...copies.values()]).toEqual(Array.from({ length: SUBSCRIBERS }, () => 1));

    const again = await startAt('2025-07-23T18:50:00Z');
    expect(again.events('catch-up')).toEqual([]);
    expect(again.events('run-start')).toEqual([]);
    expect(server.messages).toHaveLength(SUBSCRIBERS);
  });

  it('records a slot missed outside the window as skipped, sends nothing, and never runs the older missed slots', async () => {
    await startAt('2025-07-23T18:40:00Z');
    expect(server.messages).toHaveLength(SUBSCRIBERS);
    // Down from the 23rd to 23:30 on the 26th: 24th and 25th missed, the 26th is 150 minutes late.
    const logs = await startAt('2025-07-26T20:30:00Z');
    expect(logs.events('catch-up')).toEqual([expect.objectContaining({ action: 'skip', edition: '2025-07-26', lateMinutes: 150, olderMissed: '2' })]);
    expect(logs.events('run-start')).toEqual([]);
    expect(await store.getEdition('2025-07-26')).toMatchObject({ status: 'skipped', note: 'missed: outside catch-up window' });
    expect(await store.getEdition('2025-07-24')).toBeUndefined();
    expect(await store.getEdition('2025-07-25')).toBeUndefined();
    expect(server.messages).toHaveLength(SUBSCRIBERS);
  });
});

describe('planCatchUp', () => {
  const base = { cron: '0 0 7 * * *', zone: 'Europe/Kyiv', catchUpMinutes: 60 };
  it.each([
    { now: '2025-07-24T04:00:00Z', due: '2025-07-24T04:00:00Z', dueHasEdition: false, newest: undefined, plan: { action: 'run', lateMinutes: 0, olderMissed: 0 } },
    { now: '2025-07-24T05:00:00Z', due: '2025-07-24T04:00:00Z', dueHasEdition: false, newest: undefined, plan: { action: 'run', lateMinutes: 60, olderMissed: 0 } },
    { now: '2025-07-24T05:00:01Z', due: '2025-07-24T04:00:00Z', dueHasEdition: false, newest: '2025-07-20T04:00:00Z', plan: { action: 'skip', olderMissed: 3 } },
    { now: '2025-07-24T04:30:00Z', due: '2025-07-24T04:00:00Z', dueHasEdition: true, newest: '2025-07-24T04:00:00Z', plan: { action: 'none' } },
    // After the autumn change 07:00 in Kyiv is 05:00Z; the slot of the day before was 04:00Z.
    { now: '2025-10-26T05:30:00Z', due: '2025-10-26T05:00:00Z', dueHasEdition: false, newest: '2025-10-25T04:00:00Z', plan: { action: 'run', lateMinutes: 30, olderMissed: 0 } },
    { now: '2025-10-28T07:00:00Z', due: '2025-10-28T05:00:00Z', dueHasEdition: false, newest: '2025-10-25T04:00:00Z', plan: { action: 'skip', lateMinutes: 120, olderMissed: 2 } },
  ])('at $now (due has an edition: $dueHasEdition) plans $plan.action', ({ now, due, dueHasEdition, newest, plan }) => {
    const result = planCatchUp({
      ...base,
      now: new Date(now),
      due: new Date(due),
      dueHasEdition,
      newestEditionSlot: newest === undefined ? undefined : new Date(newest),
    });
    expect(result).toMatchObject(plan);
  });
});
