import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';

const DATE = '2025-07-23';
const SUBSCRIBERS = 2000;
const CONCURRENCY = 8;
/** Outcomes recorded per outbox transaction: with the messages in flight, what a kill can leave unrecorded. */
const RECORD_BATCH = 16;
/** Arrivals after which each run is killed: early, in the middle, near the end. */
const KILL_AFTER = [150, 900, 1700];

let workspace: Workspace | undefined;
let server: SmtpTestServer | undefined;

afterEach(async () => {
  await server?.close();
  workspace?.remove();
});

describe('briefing send, killed', () => {
  it('with SIGKILL, resumes after each kill: every subscriber gets the edition, duplicates stay within the messages in flight or unrecorded', async () => {
    workspace = await createWorkspace({
      subscribers: SUBSCRIBERS,
      configure: (config) => {
        config.delivery = { ...(config.delivery as object), concurrency: CONCURRENCY, recordBatch: RECORD_BATCH, batchSize: 100, retryBaseMs: 5, retryMaxMs: 50 };
      },
    });
    server = await startSmtpTestServer();
    const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'crash-test-secret-0123456789' };

    const kills: Array<{ after: number; accepted: number }> = [];
    for (const after of KILL_AFTER) {
      const child = workspace.start(['send', '--date', DATE], env);
      const stderr: Buffer[] = [];
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      const outcome = await Promise.race([server.arrivals(after).then(() => 'reached' as const), exited.then(() => 'exited' as const)]);
      expect(outcome, Buffer.concat(stderr).toString()).toBe('reached');
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      kills.push({ after, accepted: server.messages.length });
    }

    const final = await workspace.run(['send', '--date', DATE, '--json'], env);
    expect(final.code, final.stderr).toBe(0);
    expect(JSON.parse(final.stdout)).toMatchObject({ complete: true, counts: { queued: 0, sending: 0, sent: SUBSCRIBERS, failed: 0, skipped: 0 } });

    // Every subscriber received the edition: one Message-ID per subscriber, none missing.
    const ids = new Set([...server.counts.keys()].map((messageId) => Number(/^<[^.]+\.(\d+)\./.exec(messageId)?.[1])));
    expect(ids.size).toBe(SUBSCRIBERS);
    expect(Math.min(...ids)).toBe(1);
    expect(Math.max(...ids)).toBe(SUBSCRIBERS);
    // A duplicate is a message accepted but not yet recorded when the process died: at most the
    // messages in flight (the concurrency) and the outcomes waiting for their batch, per kill.
    const duplicates = [...server.counts.values()].reduce((sum, count) => sum + count - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(KILL_AFTER.length * (CONCURRENCY + RECORD_BATCH));
    expect(server.messages.length).toBe(SUBSCRIBERS + duplicates);

    const database = new Database(workspace.databaseFile, { readonly: true });
    try {
      expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      database.close();
    }
    console.info(`kills ${JSON.stringify(kills)}, duplicates ${duplicates}`);
  });
});
