import { expect, it } from 'vitest';
import { copiesPerSubscriber, waitFor, useScheduleScenes } from './support/schedule-process.js';

const SUBSCRIBERS = 12;

const openScene = useScheduleScenes();

it('two briefing schedule processes on one SQLite store send each edition once', async () => {
  const { server, store, start } = await openScene({
    subscribers: SUBSCRIBERS,
    configure: (config) => {
      config.schedule = { cron: '*/3 * * * * *', catchUpMinutes: 1 };
      config.edition = { ...(config.edition as object), sendWhenEmpty: true };
      config.delivery = { ...(config.delivery as object), concurrency: 2, messagesPerSecond: 20, retryBaseMs: 5, retryMaxMs: 50 };
    },
  });
  const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'two-schedulers-test-secret-012' };

  const pair = [start(env), start(env)];
  await waitFor(
    async () => ((await store.listEditions(100)).filter((edition) => edition.status === 'sent').length >= 4 ? true : undefined),
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
