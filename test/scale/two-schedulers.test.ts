import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { postgresAvailable, POSTGRES_TEST_URL } from '../store/store-fixtures.js';
import { allDeliveries, subscriberOf } from './support/outbox-evidence.js';
import { addReaders, freshSchema, killAll, waitFor, watch, workerPid, type PostgresSchema, type Running } from './support/postgres-publication.js';

const SUBSCRIBERS = 30;
/** Editions to see sent before the schedulers are stopped. */
const EDITIONS = 3;

let schema: PostgresSchema | undefined;
let server: SmtpTestServer | undefined;
const workspaces: Workspace[] = [];
const running: Running[] = [];

afterEach(async () => {
  killAll(running.splice(0));
  await server?.close();
  await schema?.fixture.cleanup();
  for (const workspace of workspaces.splice(0)) workspace.remove();
  server = undefined;
  schema = undefined;
});

/** The JSON log lines (stderr) of a finished `briefing schedule`. */
function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Messages the SMTP server accepted per Message-ID edition part (the edition id with `:` as `-`). */
function copiesByEdition(smtp: SmtpTestServer): Map<string, Map<number, number>> {
  const byEdition = new Map<string, Map<number, number>>();
  for (const [messageId, count] of smtp.counts) {
    const edition = /^<([^.]+)\./.exec(messageId)?.[1] ?? '';
    const copies = byEdition.get(edition) ?? new Map<number, number>();
    const subscriber = subscriberOf(messageId);
    copies.set(subscriber, (copies.get(subscriber) ?? 0) + count);
    byEdition.set(edition, copies);
  }
  return byEdition;
}

// In CI (CI=true) postgresAvailable throws when the server is missing: this file fails, never skips.
if (await postgresAvailable()) {
  describe('two briefing schedule processes on one PostgreSQL database', () => {
    it('create each slot’s edition once and send it once per subscriber', async () => {
      schema = await freshSchema();
      const store = schema.fixture.store;
      await addReaders(store, SUBSCRIBERS);
      server = await startSmtpTestServer();
      // Two "machines": each its own folders, the same configuration and database.
      for (let index = 0; index < 2; index += 1) {
        workspaces.push(
          await createWorkspace({
            configure: (config) => {
              config.schedule = { cron: '*/3 * * * * *', catchUpMinutes: 1 };
              config.edition = { ...(config.edition as object), sendWhenEmpty: true };
              // Small batches and a rate, so both schedulers get a share of an edition's outbox.
              config.delivery = { ...(config.delivery as object), concurrency: 2, batchSize: 5, messagesPerSecond: 20, retryBaseMs: 5, retryMaxMs: 50 };
            },
          }),
        );
      }
      const env = { BRIEFING_DATABASE_URL: schema.url, BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'two-schedulers-postgres-secret-01' };
      const started = Date.now();
      const pair = workspaces.map((workspace) => watch(workspace.start(['schedule'], env)));
      running.push(...pair);

      await waitFor(
        async () => ((await store.listEditions(100)).filter((edition) => edition.status === 'sent').length >= EDITIONS ? true : undefined),
        () => `${EDITIONS} editions sent\n${pair.map((scheduler) => scheduler.output()).join('\n')}`,
        60_000,
      );
      for (const scheduler of pair) scheduler.child.kill('SIGTERM');
      const results = await Promise.all(pair.map((scheduler) => scheduler.finished));
      results.forEach((result, index) => expect(result.code, pair[index]?.output()).toBe(0));
      const seconds = (Date.now() - started) / 1000;

      // Both ran the same slots: the store's unique edition id, not timing, kept each to one edition.
      const ran = results.map((result) => new Set(logLines(result.stderr).filter((line) => line.event === 'run').map((line) => String(line.edition))));
      const ranByBoth = [...(ran[0] ?? [])].filter((edition) => ran[1]?.has(edition));
      expect(ranByBoth.length).toBeGreaterThanOrEqual(2);

      const editions = await store.listEditions(100);
      const sent = editions.filter((edition) => edition.status === 'sent');
      expect(sent.length).toBeGreaterThanOrEqual(EDITIONS);
      const copies = copiesByEdition(server);
      const pids = new Set(pair.map((scheduler) => scheduler.child.pid));
      const senders = new Set<number | undefined>();
      for (const edition of editions) {
        const received = copies.get(edition.id.replace(/[^A-Za-z0-9-]/g, '-')) ?? new Map<number, number>();
        // Never a second copy of an edition to anyone; a sent edition reached everyone.
        for (const [subscriber, count] of received) expect(count, `${edition.id} to subscriber ${subscriber}`).toBe(1);
        if (edition.status !== 'sent') continue;
        expect(received.size, edition.id).toBe(SUBSCRIBERS);
        const deliveries = await allDeliveries(store, edition.id);
        expect(deliveries.map((delivery) => delivery.status)).toEqual(Array.from({ length: SUBSCRIBERS }, () => 'sent'));
        for (const delivery of deliveries) senders.add(workerPid(delivery.worker));
      }
      // Only these two sent, and both took part.
      expect([...senders].every((pid) => pids.has(pid))).toBe(true);
      expect(senders.size).toBe(2);
      expect(server.messages).toHaveLength(server.counts.size);
      console.info(`two schedulers: ${sent.length} editions sent (${ranByBoth.length} run by both) in ${seconds.toFixed(1)} s`);
    });
  });
} else {
  describe.skip(`two briefing schedule processes on PostgreSQL (no server at ${POSTGRES_TEST_URL})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
}
