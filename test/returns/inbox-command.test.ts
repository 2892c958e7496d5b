/**
 * `briefing inbox` end to end: a briefing sent through a real Postfix to an address it does not
 * know comes back as Postfix's own DSN to the message's bounce+ address, and `inbox --maildir`
 * turns the subscriber `bounced`; complaints, mailto unsubscribes, forgeries, replays and a busy
 * store through `inbox --stdin`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bounceAddress, unsubscribeAddress } from '../../src/returns/return-address.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Subscriber } from '../../src/store/store.js';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { dovecotMissing, startDovecot, type DovecotInstance } from '../support/dovecot-instance.js';
import { postfixMissing, startPostfix, type PostfixInstance } from '../support/postfix-instance.js';

const SECRET = 'inbox-command-test-secret-0123456789';
const ENV = { BRIEFING_SECRET: SECRET };
const DOMAIN = 'bounces.briefing.test';
const EDITION = '2025-07-24';

async function subscriber(workspace: Workspace, address: string): Promise<Subscriber> {
  const store = await openStoreAt({ kind: 'sqlite', file: workspace.databaseFile });
  try {
    const found = await store.findSubscriber(address);
    if (found === undefined) throw new Error(`no ${address}`);
    return found;
  } finally {
    await store.close();
  }
}

/** An RFC 5965 complaint about the message `about` received, quoting its headers as providers do (recipient redacted). */
function complaint(returnPath: string, mailto: string): Buffer {
  const boundary = 'arf-boundary-1';
  return Buffer.from(
    [
      'From: Feedback Loop <fbl@mailbox-provider.test>',
      'To: postmaster@briefing.test',
      'Subject: Complaint about a message from briefing.test',
      'Message-ID: <arf-1@mailbox-provider.test>',
      'Date: Thu, 24 Jul 2025 08:00:00 +0000',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'This is an email abuse report for a message received from briefing.test.',
      '',
      `--${boundary}`,
      'Content-Type: message/feedback-report',
      '',
      'Feedback-Type: abuse',
      'User-Agent: ProviderFBL/1.0',
      'Version: 1',
      'Arrival-Date: Thu, 24 Jul 2025 07:00:00 +0000',
      '',
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      '',
      `Return-Path: <${returnPath}>`,
      'From: Briefing desk <briefing@briefing.example.org>',
      'To: redacted@mailbox-provider.test',
      'Subject: Briefing, 24 July 2025',
      `List-Unsubscribe: <https://briefing.example.org/unsubscribe?token=1.x>, <mailto:${mailto}?subject=unsubscribe>`,
      '',
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

function plainMail(headers: Record<string, string>, body = 'please take me off\r\n'): Buffer {
  return Buffer.from(`${Object.entries({ 'MIME-Version': '1.0', 'Content-Type': 'text/plain; charset=utf-8', ...headers }).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${body}`);
}

describe('briefing inbox --stdin', () => {
  let workspace: Workspace;
  let reader: Subscriber;
  let other: Subscriber;
  const inbox = (input: Buffer) => workspace.run(['inbox', '--stdin', '--json'], ENV, input);

  beforeEach(async () => {
    workspace = await createWorkspace({ subscribers: 3, configure: (config) => (config.returns = { domain: DOMAIN }) });
    reader = await subscriber(workspace, 'reader1@example.com');
    other = await subscriber(workspace, 'reader2@example.com');
  });

  afterEach(() => workspace.remove());

  const bounceOf = (who: Subscriber, secret = SECRET) => bounceAddress(secret, { subscriberId: who.id, editionId: EDITION, linkKey: who.linkKey }, DOMAIN);
  const mailtoOf = (who: Subscriber) => unsubscribeAddress(SECRET, { subscriberId: who.id, linkKey: who.linkKey }, DOMAIN);

  it('an ARF complaint quoting our return path unsubscribes that subscriber with the reason complaint, once', async () => {
    const report = complaint(bounceOf(reader), mailtoOf(reader));
    const first = await inbox(report);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ read: 1, recorded: { complaint: 1 }, changed: 1, unknown: 0 });
    expect(await subscriber(workspace, 'reader1@example.com')).toMatchObject({ status: 'unsubscribed', statusReason: 'complaint: Feedback-Type: abuse' });
    expect((await subscriber(workspace, 'reader2@example.com')).status).toBe('active');

    // The same report again (a replay, or the provider's retry) is recognised and changes nothing.
    const again = await inbox(report);
    expect(JSON.parse(again.stdout)).toMatchObject({ read: 1, repeats: 1, changed: 0 });

    const listed = await workspace.run(['subscribers', 'list', '--json'], ENV);
    const row = listed.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.address === 'reader1@example.com');
    expect(JSON.stringify(row)).toContain('complaint');
    const status = await workspace.run(['status'], ENV);
    expect(status.stdout).toMatch(/Latest status changes:\n.*reader1@example\.com {2}unsubscribed: complaint: Feedback-Type: abuse/);
    expect(JSON.parse((await workspace.run(['status', '--json'], ENV)).stdout).changes).toMatchObject([{ address: 'reader1@example.com', status: 'unsubscribed', reason: 'complaint: Feedback-Type: abuse' }]);
  });

  it('a mail to the subscriber\'s own unsubscribe+ address unsubscribes them, whatever its From says', async () => {
    const result = await inbox(plainMail({ From: 'someone-else@elsewhere.test', To: mailtoOf(other), Subject: 'unsubscribe', 'Message-ID': '<u1@elsewhere.test>' }));
    expect(result.code, result.stderr).toBe(0);
    expect(await subscriber(workspace, 'reader2@example.com')).toMatchObject({ status: 'unsubscribed', statusReason: expect.stringMatching(/^mailto unsubscribe/) });
    expect((await subscriber(workspace, 'reader1@example.com')).status).toBe('active');
  });

  it('a forged From, a tampered token and a token signed with another secret change nobody and are kept as unknown mail', async () => {
    const tampered = mailtoOf(reader).replace(/-([a-z2-7])([a-z2-7]{15})@/, (_, first: string, rest: string) => `-${first === 'a' ? 'b' : 'a'}${rest}@`);
    const forgeries = [
      plainMail({ From: 'reader1@example.com', To: `unsubscribe@${DOMAIN}`, Subject: 'unsubscribe', 'Message-ID': '<f1@x.test>' }),
      plainMail({ From: 'reader1@example.com', To: tampered, Subject: 'unsubscribe', 'Message-ID': '<f2@x.test>' }),
      complaint(bounceOf(reader, 'another-secret-entirely-0123456789'), `unsubscribe@${DOMAIN}`),
    ];
    for (const forged of forgeries) {
      const result = await inbox(forged);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ read: 1, unknown: 1, changed: 0 });
    }
    expect((await subscriber(workspace, 'reader1@example.com')).status).toBe('active');
    const kept = path.join(workspace.root, 'data', 'unknown-mail', 'new');
    expect(readdirSync(kept)).toHaveLength(forgeries.length);
  });

  it('a store that cannot take the write exits 75 (EX_TEMPFAIL) so the mail server keeps the message, and changes nothing', async () => {
    const lock = new Database(workspace.databaseFile);
    lock.exec('BEGIN IMMEDIATE');
    try {
      const result = await inbox(complaint(bounceOf(reader), mailtoOf(reader)));
      expect(result.code).toBe(75);
      expect(result.stderr).toMatch(/exit 75/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    expect((await subscriber(workspace, 'reader1@example.com')).status).toBe('active');
    expect(existsSync(path.join(workspace.root, 'data', 'unknown-mail'))).toBe(false);
  }, 30_000);

  it('refuses to run on the public development key, and without a source', async () => {
    const noSecret = await workspace.run(['inbox', '--stdin'], {}, Buffer.from(''));
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toMatch(/BRIEFING_SECRET/);
    const noSource = await workspace.run(['inbox'], ENV);
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toMatch(/--maildir DIR, --stdin, or an IMAP mailbox in BRIEFING_IMAP_URL/);
  });
});

// Under CI=true postfixMissing throws when Postfix cannot run, so this part fails instead of skipping.
const missing = postfixMissing();
const withPostfix = missing === undefined ? describe : describe.skip;

withPostfix(`briefing send through a real Postfix, then briefing inbox --maildir${missing === undefined ? '' : ` (${missing})`}`, () => {
  let postfix: PostfixInstance;
  let workspace: Workspace;

  beforeAll(async () => {
    postfix = await startPostfix({ bounceDomain: DOMAIN });
  });

  afterAll(async () => {
    await postfix?.stop();
    workspace?.remove();
  });

  it('Postfix\'s DSN for an unknown recipient turns that subscriber bounced, with why and when', async () => {
    workspace = await createWorkspace({ configure: (config) => (config.returns = { domain: DOMAIN }) });
    const store = await openStoreAt({ kind: 'sqlite', file: workspace.databaseFile });
    try {
      // Only an address this Postfix is the destination of: nothing here may leave the machine.
      await store.addSubscribers([{ address: `nobody-here@${postfix.localDomain}`, status: 'active', source: 'test' }], new Date());
    } finally {
      await store.close();
    }
    const env = { ...ENV, BRIEFING_SMTP_URL: `smtp://127.0.0.1:${postfix.smtpPort}` };
    const sent = await workspace.run(['send', '--date', EDITION, '--json'], env);
    expect(sent.code, sent.stderr).toBe(0);

    // Postfix accepted it; it bounces the unknown local user with a DSN to the message's bounce+ address.
    await postfix.waitForMail(1, 30_000);
    const read = await workspace.run(['inbox', '--maildir', postfix.maildir, '--json'], env);
    expect(read.code, `${read.stderr}\n${await postfix.log()}`).toBe(0);
    expect(JSON.parse(read.stdout)).toMatchObject({ read: 1, recorded: { 'hard-bounce': 1 }, changed: 1, unknown: 0 });
    const bounced = await subscriber(workspace, `nobody-here@${postfix.localDomain}`);
    expect(bounced.status).toBe('bounced');
    expect(bounced.statusReason).toMatch(/^hard bounce: 5\.\d+\.\d+/);
    expect(bounced.statusChangedAt).not.toBeNull();

    // The report was moved out of the way, not deleted; a second run finds nothing new.
    const handled = path.join(postfix.maildir, '.Briefing.Handled', 'cur');
    expect(readdirSync(handled)).toHaveLength(1);
    expect(readFileSync(path.join(handled, readdirSync(handled)[0]!), 'utf8')).toMatch(/report-type=delivery-status/);
    const again = await workspace.run(['inbox', '--maildir', postfix.maildir, '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ read: 0 });
  }, 90_000);
});

// Under CI=true dovecotMissing throws when Dovecot cannot run, so this part fails instead of skipping.
const noDovecot = dovecotMissing();
const withDovecot = noDovecot === undefined ? describe : describe.skip;

withDovecot(`briefing inbox on the IMAP mailbox of BRIEFING_IMAP_URL${noDovecot === undefined ? '' : ` (${noDovecot})`}`, () => {
  let dovecot: DovecotInstance;
  let workspace: Workspace;

  beforeAll(async () => {
    dovecot = await startDovecot();
  });

  afterAll(async () => {
    await dovecot?.stop();
    workspace?.remove();
  });

  it('records a complaint from INBOX, moves it to Briefing/Handled and an autoreply to Briefing/Unknown, deleting nothing', async () => {
    workspace = await createWorkspace({ subscribers: 2, configure: (config) => (config.returns = { domain: DOMAIN }) });
    const reader = await subscriber(workspace, 'reader1@example.com');
    const account = dovecot.newUser();
    const admin = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user: account.user, pass: account.password }, logger: false });
    await admin.connect();
    try {
      const returnPath = bounceAddress(SECRET, { subscriberId: reader.id, editionId: EDITION, linkKey: reader.linkKey }, DOMAIN);
      await admin.append('INBOX', complaint(returnPath, `unsubscribe@${DOMAIN}`));
      await admin.append('INBOX', plainMail({ From: 'reader2@example.com', To: returnPath, Subject: 'Out of office', 'Auto-Submitted': 'auto-replied', 'Message-ID': '<ooo@example.com>' }, 'I am away.\r\n'));

      const result = await workspace.run(['inbox', '--json'], { ...ENV, BRIEFING_IMAP_URL: `${account.url}INBOX` });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ read: 2, recorded: { complaint: 1 }, changed: 1, unknown: 1 });
      expect(result.stdout + result.stderr).not.toContain(account.password);
      expect((await subscriber(workspace, 'reader1@example.com')).status).toBe('unsubscribed');

      const status = async (path: string): Promise<number> => (await admin.status(path, { messages: true })).messages ?? 0;
      const folders = (await admin.list()).map((folder) => folder.path);
      const handled = folders.find((folder) => /Briefing.Handled$/.test(folder));
      const unknown = folders.find((folder) => /Briefing.Unknown$/.test(folder));
      expect([await status('INBOX'), handled && (await status(handled)), unknown && (await status(unknown))]).toEqual([0, 1, 1]);
    } finally {
      await admin.logout();
    }
  }, 60_000);
});
