import net, { type AddressInfo } from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/bench/postfix-tools.js';
import { BriefingError } from '../../src/errors.js';
import type { Mailbox } from '../../src/returns/mailbox.js';
import { connectImapMailbox } from '../../src/returns/mailbox-imap.js';
import { collect, mailboxContract, returnedMessage, subjectOf, type HeldMessage } from './mailbox-contract.js';
import { dovecotMissing, startDovecot, type DovecotInstance, type DovecotUser } from '../support/dovecot-instance.js';

// Under CI=true dovecotMissing throws when Dovecot cannot run, so this file fails instead of skipping.
const missing = dovecotMissing();

/** A second, plain imapflow session as the test's own hands: append, count, look at flags. */
async function adminSession(server: DovecotInstance, account: DovecotUser): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, doSTARTTLS: false, auth: { user: account.user, pass: account.password }, logger: false });
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

describe.skipIf(missing !== undefined)(`IMAP mailbox against a private Dovecot${missing === undefined ? '' : ` (skipped: ${missing})`}`, () => {
  // One server for the file (it takes a second to stop); each test has a user and mail of its own.
  let server: DovecotInstance;
  beforeAll(async () => {
    server = await startDovecot();
  });
  afterAll(async () => {
    await server?.stop();
  });

  mailboxContract('IMAP', async () => {
    const account = server.newUser();
    const admin = await adminSession(server, account);
    return {
      put: async (subject, body) => {
        await admin.append('INBOX', returnedMessage(subject, body));
      },
      open: (options) => connectImapMailbox(account.url, options),
      held: (folder) => contents(admin, folder === 'unsettled' ? 'INBOX' : folder),
      total: async () => total(await counts(admin)),
      cleanup: async () => {
        await admin.logout().catch(() => admin.close());
      },
    };
  });

  describe('beyond the contract', () => {
    let account: DovecotUser;
    let admin: ImapFlow;
    const opened: Mailbox[] = [];
    const open = async (...args: Parameters<typeof connectImapMailbox>): Promise<Mailbox> => {
      const mailbox = await connectImapMailbox(...args);
      opened.push(mailbox);
      return mailbox;
    };
    const mailboxesClosed = async (): Promise<void> => {
      for (const mailbox of opened.splice(0)) await mailbox.close();
    };

    beforeEach(async () => {
      account = server.newUser();
      admin = await adminSession(server, account);
    });

    afterEach(async () => {
      await mailboxesClosed();
      await admin.logout().catch(() => admin.close());
    });
    it('watch mode: IDLE brings a message appended after the start (no poll within the test), and the loop ends when the signal aborts', async () => {
      await admin.append('INBOX', returnedMessage('early'));
      const mailbox = await open(account.url, { watch: true, pollSeconds: 600 });
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
      const plain = await startDovecot({ withoutIdle: true });
      const plainAccount = plain.newUser();
      const plainAdmin = await adminSession(plain, plainAccount);
      try {
        expect(plainAdmin.capabilities.has('IDLE')).toBe(false);
        const mailbox = await open(plainAccount.url, { watch: true, pollSeconds: 1 });
        const controller = new AbortController();
        const read: string[] = [];
        setTimeout(() => void plainAdmin.append('INBOX', returnedMessage('late')), 300);
        for await (const returned of mailbox.messages(controller.signal)) {
          read.push(subjectOf(returned) ?? '');
          await returned.settle('unknown');
          controller.abort();
        }
        expect(read).toEqual(['late']);
        expect(await counts(plainAdmin)).toMatchObject({ INBOX: 0, 'Briefing.Unknown': 1 });
      } finally {
        await mailboxesClosed();
        await plainAdmin.logout().catch(() => plainAdmin.close());
        await plain.stop();
      }
    });

    it('attack: an oversized message is not downloaded (its size is read first); settled unknown it is kept, unseen', async () => {
      await admin.append('INBOX', returnedMessage('huge', 'x'.repeat(76).concat('\r\n').repeat(5000)));
      await admin.append('INBOX', returnedMessage('small'));
      const before = await counts(admin);
      const relay = await countingRelay(server.port);
      try {
        const mailbox = await open(`imap://${account.user}:${encodeURIComponent(account.password)}@127.0.0.1:${relay.port}/INBOX`, { maxBytes: 64 * 1024 });
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
      // A server of its own: after a refused login Dovecot delays every login from 127.0.0.1 for a while (auth penalty).
      const own = await startDovecot();
      try {
        const { user } = own.newUser();
        const error = await connectImapMailbox(`imap://${user}:Wr0ng-s3cret@127.0.0.1:${own.port}/INBOX`).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(BriefingError);
        const text = (error as Error).message;
        expect(text).toMatch(new RegExp(`^returns: imap://127\\.0\\.0\\.1:${own.port}/INBOX: cannot connect and log in: login refused`));
        expect(text).not.toContain('\n');
        for (const secret of ['Wr0ng-s3cret', user]) expect(text).not.toContain(secret);
        expect((error as Error).cause).toBeUndefined();
      } finally {
        await own.stop();
      }
    });

    it('a server that refuses the connection is a one-line error naming it', async () => {
      const port = await freePort();
      const error = await connectImapMailbox(`imap://${account.user}:p@127.0.0.1:${port}/INBOX`, { connectTimeoutMs: 5000 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BriefingError);
      expect((error as Error).message).toMatch(new RegExp(`^returns: imap://127\\.0\\.0\\.1:${port}/INBOX: cannot connect and log in: .*ECONNREFUSED`));
    });

    it('reads the mailbox the URL names, and refuses one that does not exist in one line', async () => {
      await admin.mailboxCreate('Returns');
      await admin.append('Returns', returnedMessage('dsn'));
      await admin.append('INBOX', returnedMessage('personal'));
      const read = await collect(await open(`${account.url}Returns`), (returned) => returned.settle('handled'));
      expect(read.map(subjectOf)).toEqual(['dsn']);
      expect(await counts(admin)).toMatchObject({ INBOX: 1, Returns: 0, 'Briefing.Handled': 1 });
      const error = await connectImapMailbox(`${account.url}Nowhere`).catch((caught: unknown) => caught);
      expect((error as Error).message).toMatch(new RegExp(`^returns: imap://127\\.0\\.0\\.1:${server.port}/Nowhere: cannot open the mailbox: `));
    });
  });
});
