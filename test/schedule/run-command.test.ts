import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, REPOSITORY, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';

let workspace: Workspace | undefined;
let server: SmtpTestServer | undefined;

afterEach(async () => {
  await server?.close();
  workspace?.remove();
});

/** A fresh clone's publication: the sample content, the sample subscriber list, an empty store. */
function freshClone(): Promise<Workspace> {
  return createWorkspace({
    configure: (config) => {
      config.sampleSubscribers = path.join(REPOSITORY, 'subscribers.sample.csv');
    },
  });
}

describe('briefing run (npm start)', () => {
  it('on a fresh clone seeds the sample list, writes the feeds and archive, and sends the first edition as .eml files', async () => {
    workspace = await freshClone();
    const first = await workspace.run(['run']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Seeded 3 sample subscribers');
    expect(first.stdout).toMatch(/First edition: the due edition \d{4}-\d{2}-\d{2} would have nothing from the last 48 hours, so it is edition 2025-07-23/);
    expect(first.stdout).toContain('Edition 2025-07-23: 3 sent, 0 failed, 0 skipped (nothing for their topics), 0 not yet sent');

    const output = path.join(workspace.root, 'output');
    for (const feed of ['feed.xml', 'atom.xml', 'feed.json', 'index.html']) expect(existsSync(path.join(output, feed)), feed).toBe(true);
    expect(readdirSync(path.join(output, 'articles')).sort()).toEqual(['2025-07-23-istanbul-talks-preview.html', '2025-07-23-istanbul-talks-wrap.html']);
    expect(existsSync(path.join(output, 'editions/2025-07-23/index.html'))).toBe(true);
    const messages = readdirSync(path.join(output, 'outbox/2025-07-23'));
    expect(messages).toHaveLength(3);
    const recipients = messages.map((file) => /^To: .*<([^>]+)>/m.exec(readFileSync(path.join(output, 'outbox/2025-07-23', file), 'utf8'))?.[1]).sort();
    expect(recipients).toEqual(['editor@example.com', 'reader.one@example.org', 'reader.two@example.net']);

    // The next run: the first edition was sent, today's has nothing new: a clear message, exit 0, nothing sent.
    const second = await workspace.run(['run']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('Seeded');
    expect(second.stdout).toMatch(/edition \d{4}-\d{2}-\d{2}: nothing new between 2025-07-23 21:00 EEST .* so it is recorded as skipped \(`briefing send --date \S+ --replan` plans it again/);
    expect(readdirSync(path.join(output, 'outbox/2025-07-23'))).toHaveLength(3);
    expect(readdirSync(path.join(output, 'outbox'))).toEqual(['2025-07-23']);
  });

  it('sends over SMTP when BRIEFING_SMTP_URL is set, and --json reports it', async () => {
    workspace = await freshClone();
    server = await startSmtpTestServer();
    const result = await workspace.run(['run', '--json'], { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'run-command-test-secret-0123' });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ edition: '2025-07-23', reason: 'newest-content', outcome: 'sent', seeded: 3, send: { complete: true, counts: { sent: 3, failed: 0 } } });
    expect(server.messages.map((message) => message.to).flat().sort()).toEqual(['editor@example.com', 'reader.one@example.org', 'reader.two@example.net']);
  });
});
