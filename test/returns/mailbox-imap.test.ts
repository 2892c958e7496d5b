import net, { type AddressInfo } from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bench/postfix-tools.js';
import { BriefingError } from '../../src/errors.js';
import type { Mailbox } from '../../src/returns/mailbox.js';
import { connectImapMailbox } from '../../src/returns/mailbox-imap.js';
import { collect, mailboxContract, returnedMessage, subjectOf, type HeldMessage } from './mailbox-contract.js';
import { DOVECOT_MISSING, dovecotInstalled, startDovecot, type DovecotInstance } from '../support/dovecot-instance.js';

const installed = dovecotInstalled();

/** A second, plain imapflow session as the test's own hands: append, count, look at flags. */
async function adminSession(server: DovecotInstance): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, doSTARTTLS: false, auth: { user: server.user, pass: server.password }, logger: false });
  await client.connect();
  return client;
}

/** Messages in every selectable folder, by path: equal totals before and after prove nothing was deleted. */
async function counts(client: ImapFlow): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const folder of await client.list({ statusQuery: { messages: true } })) {
    if (!folder.flags.has('\\Noselect')) found[folder.path] = folder.status?.messages ?? 0;
  }
  return found;
}

const total = (byFolder: Record<string, number>): number => Object.values(byFolder).reduce((sum, count) => sum + count, 0);

/** Subject and \Seen of every message in a folder (a path, or segments joined with the server's delimiter). */
async function contents(client: ImapFlow, folder: string | readonly string[]): Promise<HeldMessage[]> {
  const path = typeof folder === 'string' ? folder : (await client.list()).find((entry) => [...entry.parent, entry.name].join('\0') === folder.join('\0'))?.path;
  if (path === undefined) return [];
  const lock = await client.getMailboxLock(path);
  try {
    if (client.mailbox === false || client.mailbox.exists === 0) return [];
    const found = await client.fetchAll('1:*', { flags: true, envelope: true });
    return found.map((entry) => ({ subject: entry.envelope?.subject ?? '', seen: entry.flags?.has('\\Seen') ?? false }));
  } finally {
    lock.release();
  }
}

/** A TCP relay to the server that counts the bytes the server sends: proof of what was downloaded. */
async function countingRelay(port: number): Promise<{ port: number; fromServer: () => number; close: () => Promise<void> }> {
  let fromServer = 0;
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const server = net.connect({ host: '127.0.0.1', port });
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        server.destroy();
      });
    }
    server.on('data', (chunk: Buffer) => {
      fromServer += chunk.length;
    });
    client.pipe(server);
    server.pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    fromServer: () => fromServer,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}

describe.skipIf(!installed)(`IMAP contract against a private Dovecot${installed ? '' : ` (skipped: ${DOVECOT_MISSING})`}`, () => {
  mailboxContract('IMAP', async () => {
    const server = await startDovecot();
    const admin = await adminSession(server);
    return {
      put: async (subject, body) => {
        await admin.append('INBOX', returnedMessage(subject, body));
      },
      open: (options) => connectImapMailbox(server.url, options),
      held: (folder) => contents(admin, folder === 'unsettled' ? 'INBOX' : folder),
      total: async () => total(await counts(admin)),
      cleanup: async () => {
        await admin.logout().catch(() => admin.close());
        await server.stop();
      },
    };
  });
});

describe.skipIf(!installed)(`IMAP mailbox against a private Dovecot${installed ? '' : ` (skipped: ${DOVECOT_MISSING})`}`, () => {
  let server: DovecotInstance;
  let admin: ImapFlow;
  const opened: Mailbox[] = [];
  const open = async (...args: Parameters<typeof connectImapMailbox>): Promise<Mailbox> => {
    const mailbox = await connectImapMailbox(...args);
    opened.push(mailbox);
    return mailbox;
  };

  beforeEach(async () => {
    server = await startDovecot();
    admin = await adminSession(server);
  });

  afterEach(async () => {
    for (const mailbox of opened.splice(0)) await mailbox.close();
    await admin.logout().catch(() => admin.close());
    await server.stop();
  });

  it('watch mode: IDLE brings a message appended after the start (no poll within the test), and the loop ends when the signal aborts', async () => {
    await admin.append('INBOX', returnedMessage('early'));
    const mailbox = await open(server.url, { watch: true, pollSeconds: 600 });
    const controller = new AbortController();
    const read: string[] = [];
    for await (const returned of mailbox.messages(controller.signal)) {
      read.push(subjectOf(returned) ?? '');
      await returned.settle('handled');
      if (read.length === 1) {
        // Appended once the reader has finished its first look and waits in IDLE.
        setTimeout(() => void admin.append('INBOX', returnedMessage('late')), 300);
      } else {
        controller.abort();
      }
    }
    expect(read).toEqual(['early', 'late']);
    expect(await counts(admin)).toMatchObject({ INBOX: 0, 'Briefing.Handled': 2 });
  });

  it('watch mode without IDLE (a server that does not offer it) polls and brings the appended message', async () => {
    await server.stop();
    server = await startDovecot({ withoutIdle: true });
    await admin.logout().catch(() => admin.close());
    admin = await adminSession(server);
    expect(admin.capabilities.has('IDLE')).toBe(false);
    const mailbox = await open(server.url, { watch: true, pollSeconds: 1 });
    const controller = new AbortController();
    const read: string[] = [];
    setTimeout(() => void admin.append('INBOX', returnedMessage('late')), 300);
    for await (const returned of mailbox.messages(controller.signal)) {
      read.push(subjectOf(returned) ?? '');
      await returned.settle('unknown');
      controller.abort();
    }
    expect(read).toEqual(['late']);
    expect(await counts(admin)).toMatchObject({ INBOX: 0, 'Briefing.Unknown': 1 });
  });

  it('attack: an oversized message is not downloaded (its size is read first); settled unknown it is kept, unseen', async () => {
    await admin.append('INBOX', returnedMessage('huge', 'x'.repeat(76).concat('\r\n').repeat(5000)));
    await admin.append('INBOX', returnedMessage('small'));
    const before = await counts(admin);
    const relay = await countingRelay(server.port);
    try {
      const mailbox = await open(`imap://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${relay.port}/INBOX`, { maxBytes: 64 * 1024 });
      const read = await collect(mailbox, (returned) => returned.settle(returned.oversized ? 'unknown' : 'handled'));
      expect(read.map((returned) => ({ oversized: returned.oversized, bytes: returned.raw.length }))).toEqual([
        { oversized: true, bytes: 0 },
        { oversized: false, bytes: returnedMessage('small').length },
      ]);
      // The huge message is 390 KB; everything the server sent in this session is far less.
      expect(relay.fromServer()).toBeLessThan(64 * 1024);
    } finally {
      await relay.close();
    }
    expect(total(await counts(admin))).toBe(total(before));
    expect(await contents(admin, 'Briefing.Unknown')).toEqual([{ subject: 'huge', seen: false }]);
  });

  it('attack: a wrong password is refused in one line that names the server and shows neither user nor password', async () => {
    const error = await connectImapMailbox(`imap://${server.user}:Wr0ng-s3cret@127.0.0.1:${server.port}/INBOX`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    const text = (error as Error).message;
    expect(text).toMatch(new RegExp(`^returns: imap://127\\.0\\.0\\.1:${server.port}/INBOX: cannot connect and log in: login refused`));
    expect(text).not.toContain('\n');
    for (const secret of ['Wr0ng-s3cret', server.user]) expect(text).not.toContain(secret);
    expect((error as Error).cause).toBeUndefined();
  });

  it('a server that refuses the connection is a one-line error naming it', async () => {
    const port = await freePort();
    const error = await connectImapMailbox(`imap://${server.user}:p@127.0.0.1:${port}/INBOX`, { connectTimeoutMs: 5000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as Error).message).toMatch(new RegExp(`^returns: imap://127\\.0\\.0\\.1:${port}/INBOX: cannot connect and log in: .*ECONNREFUSED`));
  });

  it('reads the mailbox the URL names, and refuses one that does not exist in one line', async () => {
    await admin.mailboxCreate('Returns');
    await admin.append('Returns', returnedMessage('dsn'));
    await admin.append('INBOX', returnedMessage('personal'));
    const read = await collect(await open(`${server.url}Returns`), (returned) => returned.settle('handled'));
    expect(read.map(subjectOf)).toEqual(['dsn']);
    expect(await counts(admin)).toMatchObject({ INBOX: 1, Returns: 0, 'Briefing.Handled': 1 });
    const error = await connectImapMailbox(`${server.url}Nowhere`).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(new RegExp(`^returns: imap://127\\.0\\.0\\.1:${server.port}/Nowhere: cannot open the mailbox: `));
  });
});
