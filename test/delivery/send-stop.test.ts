import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';

const DATE = '2025-07-23';

let workspace: Workspace | undefined;
let server: SmtpTestServer | undefined;

afterEach(async () => {
  await server?.close();
  workspace?.remove();
});

describe('briefing send, stopped', () => {
  it('on SIGTERM stops claiming, finishes and records what is in flight, and says how to resume', async () => {
    workspace = await createWorkspace({ subscribers: 1500 });
    server = await startSmtpTestServer();
    const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'crash-test-secret-0123456789' };
    const child = workspace.start(['send', '--date', DATE], env);
    const stdout: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await server.arrivals(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(Buffer.concat(stdout).toString()).toMatch(/^Stopped before the end: run `briefing send --resume --date 2025-07-23` to continue$/m);
    const database = new Database(workspace.databaseFile, { readonly: true });
    const counts = Object.fromEntries(
      (database.prepare('SELECT status, count(*) AS n FROM deliveries GROUP BY status').all() as Array<{ status: string; n: number }>).map((row) => [row.status, row.n]),
    );
    database.close();
    // Nothing is left claimed, and every message the server accepted is recorded as sent.
    expect(counts.sending ?? 0).toBe(0);
    expect(counts.sent).toBe(server.counts.size);
    expect((counts.sent ?? 0) + (counts.queued ?? 0)).toBe(1500);
  });
});
