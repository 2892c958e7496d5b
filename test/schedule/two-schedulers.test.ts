import { afterEach, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { copiesPerSubscriber, openWorkspaceStore, startSchedule, waitFor, type ScheduleProcess } from './support/schedule-process.js';

const SUBSCRIBERS = 12;

let workspace: Workspace | undefined;
let server: SmtpTestServer | undefined;
let store: Store | undefined;
const children: ScheduleProcess[] = [];

afterEach(async () => {
  for (const { child } of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await store?.close();
  await server?.close();
  workspace?.remove();
});

it('two briefing schedule processes on one SQLite store send each edition once', async () => {
  workspace = await createWorkspace({
    subscribers: SUBSCRIBERS,
    configure: (config) => {
      config.schedule = { cron: '*/3 * * * * *', catchUpMinutes: 1 };
      config.edition = { ...(config.edition as object), sendWhenEmpty: true };
      config.delivery = { ...(config.delivery as object), concurrency: 2, messagesPerSecond: 20, retryBaseMs: 5, retryMaxMs: 50 };
    },
  });
  server = await startSmtpTestServer();
  store = await openWorkspaceStore(workspace);
  const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'two-schedulers-test-secret-012' };

  const pair = [startSchedule(workspace, env), startSchedule(workspace, env)];
  children.push(...pair);
  await waitFor(
    async () => ((await store!.listEditions(100)).filter((edition) => edition.status === 'sent').length >= 4 ? true : undefined),
    () => `four editions sent\n--- first\n${pair[0]?.output()}\n--- second\n${pair[1]?.output()}`,
  );
  for (const process of pair) process.child.kill('SIGTERM');
  for (const process of pair) expect(await process.exited, process.output()).toEqual({ code: 0, signal: null });

  // Both fired for the same slots and both ran them: the store decided, not luck of timing.
  const ranBy = pair.map((process) => new Set(process.logs.filter((line) => line.event === 'run').map((line) => String(line.edition))));
  const ranByBoth = [...(ranBy[0] ?? [])].filter((edition) => ranBy[1]?.has(edition));
  expect(ranByBoth.length).toBeGreaterThanOrEqual(2);

  const editions = await store.listEditions(100);
  const delivered = editions.filter((edition) => edition.status === 'sent');
  expect(delivered.length).toBeGreaterThanOrEqual(4);
  for (const edition of editions) {
    const copies = copiesPerSubscriber(server, edition);
    // Each subscriber got each edition at most once, and every sent edition reached everyone.
    for (const [subscriber, count] of copies) expect(count, `${edition.id} to subscriber ${subscriber}`).toBe(1);
    if (edition.status === 'sent') expect(copies.size, edition.id).toBe(SUBSCRIBERS);
  }
  const total = [...server.counts.values()].reduce((sum, count) => sum + count, 0);
  expect(total).toBe(server.counts.size);
});
