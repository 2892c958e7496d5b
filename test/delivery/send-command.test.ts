import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/delivery/tokens.js';
import { openStoreAt } from '../../src/store/open-store.js';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { header, parseMailFiles } from '../support/parse-mail.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';

/** The edition the repository's content fills (its articles appeared before the 23 July 21:00 slot). */
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

/** Every file under a folder with its size and modification time, to prove nothing changed. */
function snapshot(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      const stat = statSync(file);
      return `${path.relative(folder, file)} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

async function readStore<T>(workspaceFile: string, read: (store: Awaited<ReturnType<typeof openStoreAt>>) => Promise<T>): Promise<T> {
  const store = await openStoreAt({ kind: 'sqlite', file: workspaceFile });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

describe('briefing send', () => {
  it('writes one .eml file per subscriber under output/outbox/<edition>/ when BRIEFING_SMTP_URL is not set', async () => {
    workspace = await createWorkspace({ subscribers: 5, names: (n) => (n === 2 ? 'Zoë Reader' : null) });
    const result = await workspace.run(['send', '--date', DATE], { BRIEFING_SECRET: SECRET });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Writing .eml files in output/outbox/${DATE}/ (BRIEFING_SMTP_URL is not set)`);
    expect(result.stdout).toMatch(/^Sent 5, failed 0, retried 0 in/m);
    const folder = path.join(workspace.root, 'output', 'outbox', DATE);
    expect(readdirSync(folder).sort()).toEqual(['1.eml', '2.eml', '3.eml', '4.eml', '5.eml']);
    const mails = parseMailFiles(['1.eml', '2.eml', '3.eml', '4.eml', '5.eml'].map((name) => path.join(folder, name)));
    const linkKeys = await readStore(workspace.databaseFile, (store) => Promise.all([1, 2, 3, 4, 5].map(async (id) => (await store.getSubscriber(id))?.linkKey ?? '')));
    for (const [index, mail] of mails.entries()) {
      expect(mail.defects).toEqual([]);
      expect(mail.addresses.to).toEqual([{ name: index === 1 ? 'Zoë Reader' : '', address: `reader${index + 1}@example.com` }]);
      const token = /token=([^>]+)>/.exec(header(mail, 'list-unsubscribe') ?? '')?.[1];
      expect(verifyToken([SECRET], 'unsubscribe', token, linkKeys[index] ?? '', new Date())).toMatchObject({ ok: true, subscriberId: index + 1 });
      expect(mail.parts.map((part) => part.type)).toEqual(['text/plain', 'text/html']);
    }
    const status = await workspace.run(['status', '--date', DATE, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ edition: DATE, status: 'sent', counts: { queued: 0, sending: 0, sent: 5, failed: 0, skipped: 0 }, failures: [] });
  });

  it('puts the edition it sends on the site: its web version and an entry in the editions index and feeds', async () => {
    workspace = await createWorkspace({ subscribers: 1 });
    const result = await workspace.run(['send', '--date', DATE], { BRIEFING_SECRET: SECRET });
    expect(result.code).toBe(0);
    const output = path.join(workspace.root, 'output');
    expect(readFileSync(path.join(output, 'editions', DATE, 'index.html'), 'utf8')).toContain('role="main"');
    expect(readFileSync(path.join(output, 'editions', 'index.html'), 'utf8')).toContain(`href="../editions/${DATE}/"`);
    expect(readFileSync(path.join(output, 'editions', 'atom.xml'), 'utf8')).toContain(`editions/${DATE}/`);
  });

  it('--dry-run reports the edition, subject and recipients and writes nothing', async () => {
    workspace = await createWorkspace({ subscribers: 7 });
    const before = snapshot(workspace.root);
    const result = await workspace.run(['send', '--date', DATE, '--dry-run', '--json'], { BRIEFING_SECRET: SECRET });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ edition: DATE, dryRun: true, skipped: false, recipients: 7, alreadySent: 0 });
    expect(JSON.parse(result.stdout).subject).toMatch(/^Briefing, /);
    // The SQLite file may gain its transient -wal/-shm companions when read; the database itself and every other file stay as they were.
    expect(snapshot(workspace.root).filter((line) => !/briefing\.db-(wal|shm) /.test(line))).toEqual(before);
    expect(await readStore(workspace.databaseFile, async (store) => [await store.getEdition(DATE), await store.deliveryCounts(DATE)])).toEqual([
      undefined,
      { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 },
    ]);
  });

  it('counts a reader whose topics have no news as skipped: in --dry-run, the send summary and status; and sends them no test copy', async () => {
    workspace = await createWorkspace({
      subscribers: 2,
      configure: (config) => (config.topics as unknown[]).push({ id: 'economy', title: 'The economy', match: ['bond yields'] }),
    });
    expect((await workspace.run(['subscribers', 'add', 'economist@example.com', '--topics', 'economy'])).code).toBe(0);
    const dry = await workspace.run(['send', '--date', DATE, '--dry-run'], { BRIEFING_SECRET: SECRET });
    expect(dry.stdout).toContain('Would send to 2 recipients (1 skipped: nothing for their topics) via .eml files');
    const copy = await workspace.run(['send', '--date', DATE, '--to', 'economist@example.com'], { BRIEFING_SECRET: SECRET });
    expect(copy.code).toBe(1);
    expect(copy.stdout).toContain(`no test copy sent: edition ${DATE} has nothing for topics economy, the topics economist@example.com reads`);
    const sent = await workspace.run(['send', '--date', DATE], { BRIEFING_SECRET: SECRET });
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^Edition 2025-07-23: 2 sent, 0 failed, 1 skipped \(nothing for their topics\), 0 not yet sent$/m);
    expect(readdirSync(path.join(workspace.root, 'output', 'outbox', DATE)).sort()).toEqual(['1.eml', '2.eml']);
    const status = await workspace.run(['status', '--date', DATE]);
    expect(status.stdout).toContain('queued 0, sending 0, sent 2, failed 0, skipped 1 (nothing for their topics)');
  });

  it('--dry-run on a fresh clone does not create the store', async () => {
    workspace = await createWorkspace();
    const result = await workspace.run(['send', '--date', DATE, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Would send to 0 recipients via \.eml files in output\/outbox\/2025-07-23\/; nothing was written/);
    expect(existsSync(path.join(workspace.root, 'data'))).toBe(false);
    expect(existsSync(path.join(workspace.root, 'output'))).toBe(false);
  });

  it('--to sends one [TEST] copy over SMTP and leaves the edition and outbox alone', async () => {
    workspace = await createWorkspace({ subscribers: 3 });
    server = await startSmtpTestServer({ keepRaw: true });
    const result = await workspace.run(['send', '--date', DATE, '--to', 'Editor@Example.NET'], { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: SECRET });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Sent a test copy of edition 2025-07-23 to Editor@example\.net via smtp:\/\/127\.0\.0\.1:\d+; the server replied "250 /);
    expect(server.messages.map((received) => received.to)).toEqual([['Editor@example.net']]);
    expect(server.messages[0]?.raw.toString()).toMatch(/^Subject: \[TEST\] Briefing, /m);
    expect(await readStore(workspace.databaseFile, async (store) => [await store.getEdition(DATE), await store.deliveryCounts(DATE)])).toEqual([
      undefined,
      { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 },
    ]);
  });

  it('writes .eml files with no BRIEFING_SECRET at all (a fresh clone needs no setup)', async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    const result = await workspace.run(['send', '--date', DATE]);
    expect(result.stderr).not.toMatch(/BRIEFING_SECRET|error/i);
    expect(result.code).toBe(0);
    expect(readdirSync(path.join(workspace.root, 'output', 'outbox', DATE)).sort()).toEqual(['1.eml', '2.eml']);
  });

  it.each([
    ['send', ['send', '--date', DATE]],
    ['send --to', ['send', '--date', DATE, '--to', 'editor@example.net']],
    ['run', ['run']],
    ['schedule', ['schedule']],
  ])('%s over SMTP without BRIEFING_SECRET (links signed with the public development key) refuses to start', async (_label, args) => {
    workspace = await createWorkspace({ subscribers: 2 });
    server = await startSmtpTestServer();
    const result = await workspace.run(args, { BRIEFING_SMTP_URL: server.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `config: BRIEFING_SECRET is not set: \`briefing ${args[0]}\` would sign links with the public development key; set it to a random value, e.g. BRIEFING_SECRET="$(openssl rand -base64 32)"\n`,
    );
    expect(server.messages).toEqual([]);
  });

  it('--resume refuses an edition that was never enqueued', async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    const result = await workspace.run(['send', '--date', DATE, '--resume']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^delivery: edition 2025-07-23 has not been enqueued yet: run `briefing send --date 2025-07-23` without --resume/m);
  });
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
    expect(result.stdout).toMatch(/^Edition 2025-07-23: 117 sent, 3 failed, 0 skipped \(nothing for their topics\), 0 not yet sent$/m);
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

  it('with BRIEFING_TRANSPORT=nodemailer sends through nodemailer\u2019s pool: retries the 4xx, bounces the 550s, each message once', async () => {
    workspace = await createWorkspace({ subscribers: 30, configure: fastRetries });
    const gone = new Set(['reader7@example.com', 'reader20@example.com']);
    server = await startSmtpTestServer({ seed: 4, temporaryRate: 0.1, rejectRecipients: gone });
    const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: SECRET, BRIEFING_TRANSPORT: 'nodemailer' };
    const result = await workspace.run(['send', '--date', DATE], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/nodemailer smtp:\/\/127\.0\.0\.1:\d+/);
    expect(result.stdout).toMatch(/^Sent 28, failed 2 \(2 bounced\), retried [1-9]\d* in /m);
    expect(server.counts.size).toBe(28);
    expect([...server.counts.values()].every((count) => count === 1)).toBe(true);
  });

  it('refuses an unknown BRIEFING_TRANSPORT, nodemailer without BRIEFING_SMTP_URL, and a relative sendmail path, in one line', async () => {
    workspace = await createWorkspace({ subscribers: 1 });
    const unknown = await workspace.run(['send', '--date', DATE], { BRIEFING_SECRET: SECRET, BRIEFING_TRANSPORT: 'carrier-pigeon' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('config: BRIEFING_TRANSPORT must be smtp or nodemailer, not "carrier-pigeon"');
    const bare = await workspace.run(['send', '--date', DATE], { BRIEFING_SECRET: SECRET, BRIEFING_TRANSPORT: 'nodemailer' });
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/^config: BRIEFING_TRANSPORT=nodemailer needs BRIEFING_SMTP_URL/m);
    const relative = await workspace.run(['send', '--date', DATE], { BRIEFING_SECRET: SECRET, BRIEFING_TRANSPORT: 'nodemailer', BRIEFING_SMTP_URL: 'sendmail:bin/sendmail' });
    expect(relative.code).toBe(1);
    expect(relative.stderr).toMatch(/^config: BRIEFING_SMTP_URL sendmail: must name an absolute path/m);
  });

  it('refuses BRIEFING_SMTP_OAUTH2_TOKEN without BRIEFING_TRANSPORT=nodemailer, or with a password in the URL, in one line that does not quote the token', async () => {
    workspace = await createWorkspace({ subscribers: 1 });
    const token = 'ya29.never-printed-token';
    const url = 'smtp://briefing@127.0.0.1:1';
    const own = await workspace.run(['send', '--date', DATE], { BRIEFING_SECRET: SECRET, BRIEFING_SMTP_URL: url, BRIEFING_SMTP_OAUTH2_TOKEN: token });
    expect(own.code).toBe(1);
    expect(own.stderr.trim()).toBe('config: BRIEFING_SMTP_OAUTH2_TOKEN needs BRIEFING_TRANSPORT=nodemailer and an smtp:// or smtps:// BRIEFING_SMTP_URL');
    const both = await workspace.run(['send', '--date', DATE], {
      BRIEFING_SECRET: SECRET,
      BRIEFING_TRANSPORT: 'nodemailer',
      BRIEFING_SMTP_URL: 'smtp://briefing:s3cret@127.0.0.1:1',
      BRIEFING_SMTP_OAUTH2_TOKEN: token,
    });
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/^config: BRIEFING_SMTP_OAUTH2_TOKEN and a password in BRIEFING_SMTP_URL are two logins: drop the password$/m);
    expect(`${own.stdout}${own.stderr}${both.stdout}${both.stderr}`).not.toContain('never-printed');
  });
});
