import { afterEach, describe, expect, it } from 'vitest';
import { openStoreAt } from '../../src/store/open-store.js';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';

const DATE = '2025-07-23';
const SECRET = 'cli-test-secret-0123456789';

let workspace: Workspace | undefined;
let server: SmtpTestServer | undefined;

afterEach(async () => {
  await server?.close();
  workspace?.remove();
  server = undefined;
  workspace = undefined;
});

/** Quick retries, and enough of them that a recoverable message cannot run out under the injected fault rates. */
function fastRetries(config: Record<string, unknown>): void {
  config.delivery = { ...(config.delivery as object), retryBaseMs: 5, retryMaxMs: 50, maxAttempts: 16, timeoutMs: 3000 };
}

describe('briefing send against a misbehaving SMTP server', () => {
  it('retries 421/451 and dropped connections, fails the 550s, says so in the summary, the exit code and status', async () => {
    workspace = await createWorkspace({ subscribers: 120, configure: fastRetries });
    const gone = new Set(['reader7@example.com', 'reader50@example.com', 'reader99@example.com']);
    server = await startSmtpTestServer({ seed: 9, temporaryRate: 0.1, dropRate: 0.03, dropStages: ['connect', 'mail', 'rcpt', 'data'], rejectRecipients: gone });
    const result = await workspace.run(['send', '--date', DATE], { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: SECRET });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Sent 117, failed 3 \(3 bounced\), retried [1-9]\d* in /m);
    expect(result.stdout).toMatch(/^Edition 2025-07-23: 117 sent, 3 failed, 0 not yet sent$/m);
    expect(server.counts.size).toBe(117);
    expect([...server.counts.values()].every((count) => count === 1)).toBe(true);

    const status = await workspace.run(['status', '--date', DATE]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/queued 0, sending 0, sent 117, failed 3/);
    for (const address of gone) expect(status.stdout).toMatch(new RegExp(`^  ${address}  550 5\\.1\\.1 No such user here \\(RCPT TO\\)  \\[\\d+ attempts?\\]$`, 'm'));
    const json = JSON.parse((await workspace.run(['status', '--date', DATE, '--json'])).stdout) as { failures: Array<{ address: string }> };
    expect(json.failures.map((failure) => failure.address).sort()).toEqual([...gone].sort());
    const store = await openStoreAt({ kind: 'sqlite', file: workspace.databaseFile });
    const statuses = await Promise.all([...gone].map(async (address) => (await store.findSubscriber(address))?.status));
    await store.close();
    expect(statuses).toEqual(['bounced', 'bounced', 'bounced']);

    // Running again sends only what is not yet sent: nothing.
    const again = await workspace.run(['send', '--date', DATE], { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: SECRET });
    expect(again.stdout).toMatch(/^Sent 0, failed 0, retried 0 in /m);
    expect(server.counts.size).toBe(117);
  });
});
