import { expect, it } from 'vitest';
import { copiesPerSubscriber, waitFor, useScheduleScenes } from './support/schedule-process.js';

const SUBSCRIBERS = 30;
const CONCURRENCY = 2;
const RECORD_BATCH = 2;

const openScene = useScheduleScenes();

it('briefing schedule, SIGKILLed mid-send and restarted, delivers each slot edition once per subscriber', async () => {
  const { server, store, start } = await openScene({
    subscribers: SUBSCRIBERS,
    configure: (config) => {
      config.schedule = { cron: '*/5 * * * * *', catchUpMinutes: 1 };
      // Every slot sends, though the sample content is old: each fire is an edition to deliver.
      config.edition = { ...(config.edition as object), sendWhenEmpty: true };
      // 30 messages at 10 a second: each send takes about 3 s, so the kill lands inside one.
      config.delivery = { ...(config.delivery as object), concurrency: CONCURRENCY, recordBatch: RECORD_BATCH, messagesPerSecond: 10, retryBaseMs: 5, retryMaxMs: 50 };
    },
  });
  const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'schedule-kill-test-secret-0123' };
  const sent = async (): Promise<string[]> => (await store.listEditions(100)).filter((edition) => edition.status === 'sent').map((edition) => edition.id);

  const first = start(env);
  await waitFor(async () => ((await sent()).length >= 2 ? true : undefined), () => `two editions sent by the first process\n${first.output()}`);
  // Kill it in the middle of the next send.
  const killed = await waitFor(
    async () => {
      const sending = (await store.listEditions(5)).find((edition) => edition.status === 'sending');
      if (sending === undefined) return undefined;
      const counts = await store.deliveryCounts(sending.id);
      return counts.sent >= 5 && counts.sent <= SUBSCRIBERS - 10 ? { edition: sending, counts } : undefined;
    },
    () => `a send in progress\n${first.output()}`,
  );
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const stranded = await store.deliveryCounts(killed.edition.id);
  expect(stranded.sent).toBeLessThan(SUBSCRIBERS);

  const second = start(env);
  await waitFor(
    async () => {
      const editions = await store.listEditions(100);
      const resumed = editions.find((edition) => edition.id === killed.edition.id)?.status === 'sent';
      const later = editions.filter((edition) => edition.status === 'sent' && edition.slot > killed.edition.slot).length;
      return resumed && later >= 1 ? true : undefined;
    },
    () => `the killed edition resumed and one more sent\n${second.output()}`,
  );
  second.child.kill('SIGTERM');
  const exit = await second.exited;
  expect(exit, second.output()).toEqual({ code: 0, signal: null });

  // The second process resumed the edition the first one was killed in.
  expect(second.logs.filter((line) => line.event === 'resume').map((line) => line.edition)).toContain(killed.edition.id);
  expect(first.logs.filter((line) => line.event === 'fire').length).toBeGreaterThanOrEqual(2);
  expect(second.logs.filter((line) => line.event === 'fire').length).toBeGreaterThanOrEqual(1);
  expect(second.logs.some((line) => line.event === 'summary')).toBe(true);

  const editions = await store.listEditions(100);
  const delivered = editions.filter((edition) => edition.status === 'sent');
  expect(delivered.length).toBeGreaterThanOrEqual(4);
  let duplicates = 0;
  for (const edition of editions) {
    const copies = copiesPerSubscriber(server, edition);
    if (edition.status === 'sent') {
      // Every subscriber got it.
      expect([...copies.keys()].sort((a, b) => a - b), edition.id).toEqual(Array.from({ length: SUBSCRIBERS }, (_, index) => index + 1));
      expect(await store.deliveryCounts(edition.id)).toEqual({ queued: 0, sending: 0, sent: SUBSCRIBERS, failed: 0, skipped: 0 });
    }
    const extra = [...copies.values()].reduce((sum, count) => sum + count - 1, 0);
    if (edition.id !== killed.edition.id) expect(extra, `copies of ${edition.id}`).toBe(0);
    duplicates += extra;
  }
  // Only a message accepted by the server but not yet recorded when the process died can come
  // twice: at most the messages in flight and the outcomes not yet written at the kill.
  expect(duplicates).toBeLessThanOrEqual(CONCURRENCY + RECORD_BATCH);
  // Nothing else left half-done: only the send the final SIGTERM interrupted, which the next start resumes.
  const unfinished = editions.filter((edition) => edition.status !== 'sent' && edition.status !== 'skipped');
  expect(unfinished.every((edition) => edition.status === 'sending' && edition.slot > killed.edition.slot)).toBe(true);
  expect(unfinished.length).toBeLessThanOrEqual(1);
  for (const edition of editions) if (edition.status === 'skipped') expect(edition.note).not.toBeNull();
  console.info(`editions sent ${delivered.length}, killed in ${killed.edition.id} after ${stranded.sent}/${SUBSCRIBERS}, duplicates ${duplicates}`);
});
