import { describe, expect, it } from 'vitest';
import { copiesPerSubscriber, waitFor, useScheduleScenes } from './support/schedule-process.js';

const SUBSCRIBERS = 30;

const openScene = useScheduleScenes();

describe('briefing schedule', () => {
  it('on SIGTERM mid-send lets the messages in flight finish, exits 0, and the next start finishes the edition', async () => {
    const { server, store, start } = await openScene({
      subscribers: SUBSCRIBERS,
      configure: (config) => {
        // One slot a minute at second 0: catch-up runs the due one on start, no other fire interferes.
        config.schedule = { cron: '0 * * * * *', catchUpMinutes: 5 };
        config.edition = { ...(config.edition as object), sendWhenEmpty: true };
        config.delivery = { ...(config.delivery as object), concurrency: 2, messagesPerSecond: 10, retryBaseMs: 5, retryMaxMs: 50 };
      },
    });
    const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'schedule-term-test-secret-0123' };

    const first = start(env);
    const edition = await waitFor(
      async () => {
        const sending = (await store.listEditions(1)).find((record) => record.status === 'sending');
        return sending !== undefined && (await store.deliveryCounts(sending.id)).sent >= 5 ? sending : undefined;
      },
      () => `a send in progress\n${first.output()}`,
    );
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toEqual({ code: 0, signal: null });
    expect(first.output()).toContain('Stopped:');
    expect(first.logs.filter((line) => line.event === 'drain')).toHaveLength(1);
    expect(first.logs.filter((line) => line.event === 'summary')).toHaveLength(1);
    // Stopped taking new work: the edition is unfinished, and every message the server accepted is recorded sent.
    const counts = await store.deliveryCounts(edition.id);
    expect((await store.getEdition(edition.id))?.status).toBe('sending');
    expect(counts.sent).toBeLessThan(SUBSCRIBERS);
    expect(counts.sent).toBe(copiesPerSubscriber(server, edition).size);

    const second = start(env);
    await waitFor(async () => ((await store.getEdition(edition.id))?.status === 'sent' ? true : undefined), () => `the edition finished\n${second.output()}`);
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toEqual({ code: 0, signal: null });
    const copies = copiesPerSubscriber(server, edition);
    expect(copies.size).toBe(SUBSCRIBERS);
    expect([...copies.values()].every((count) => count === 1)).toBe(true);
  });

  it('refuses a bad cron with the file, line and field', async () => {
    const { workspace } = await openScene({
      configure: (config) => {
        config.schedule = { cron: '0 0 25 * * *', catchUpMinutes: 60 };
      },
    });
    const result = await workspace.run(['schedule']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^config: briefing\.config\.json has problems\nconfig: briefing\.config\.json:\d+: schedule\.cron: is not a cron expression node-cron accepts/);
  });
});
