/**
 * Returned mail from an IMAP folder (imapflow). Every message in the folder is unsettled: a
 * handled one is marked \Seen and moved to `Briefing/Handled` (the server's delimiter), an unknown
 * one moved to `Briefing/Unknown`; nothing is deleted, and nothing is expunged beyond the MOVE
 * itself. Bodies are fetched with BODY.PEEK, so reading marks nothing: a message never settled is
 * read again by the next run. Every read is bounded: connection and socket timeouts, the size the
 * server reports (RFC822.SIZE) checked before a body is fetched, and imapflow's literal and
 * response caps in case the server lies about it.
 */
import { ImapFlow, type FetchMessageObject, type ImapFlowError } from 'imapflow';
import { BriefingError } from '../errors.js';
import { parseImapUrl, type ImapSettings } from './imap-url.js';
import { mailboxLimits, settlementFolders, type Mailbox, type MailboxLimits, type MailboxOptions, type ReturnedMessage } from './mailbox.js';

export interface ImapMailboxOptions extends MailboxOptions {
  /** Keep yielding new mail until the signal aborts: IDLE where the server offers it, else polling. */
  watch?: boolean;
  /** In watch mode, look again at least this often (the only trigger without IDLE). Default 60. */
  pollSeconds?: number;
  /** Bound on connecting, TLS and the greeting, in milliseconds (default 30 s). */
  connectTimeoutMs?: number;
  /** A connection silent this long is dropped, in milliseconds (default 5 min). */
  socketTimeoutMs?: number;
}

/** A server's RFC822.SIZE may differ from the bytes it sends by a little (line endings); a lie by more ends the connection. */
const LITERAL_SLACK = 64 * 1024;
/** Longest response line without a literal: FETCH, LIST and CAPABILITY lines are far shorter. */
const MAX_LINE = 1024 * 1024;

/** One line saying why imapflow failed, without control characters or any part of the credentials. */
function reasonOf(error: unknown, secrets: readonly string[]): string {
  const failure = error as ImapFlowError;
  const parts = [failure.authenticationFailed === true ? 'login refused' : undefined, failure.code, failure.responseText ?? failure.message];
  let text = parts.filter((part): part is string => typeof part === 'string' && part !== '').join(': ');
  for (const secret of secrets) if (secret !== '') text = text.split(secret).join('***');
  return text.replace(/\p{Cc}+/gu, ' ').trim().slice(0, 200) || 'unknown error';
}

function positive(value: number | undefined, fallback: number, field: string): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen < 1) throw new BriefingError('returns', 'invalid-imap-option', `${field} must be a positive whole number`);
  return chosen;
}

function imapClient(settings: ImapSettings, limits: MailboxLimits, connectTimeoutMs: number, socketTimeoutMs: number): ImapFlow {
  return new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.tls === 'implicit',
    // Required STARTTLS fails the connection when the server does not offer it (or it was stripped).
    doSTARTTLS: settings.tls === 'starttls' ? true : settings.tls === 'none' ? false : undefined,
    auth: { user: settings.user, pass: settings.pass },
    logger: false,
    // IDLE is started by the watch loop only, so every other moment the connection is ours.
    disableAutoIdle: true,
    connectionTimeout: connectTimeoutMs,
    greetingTimeout: connectTimeoutMs,
    socketTimeout: socketTimeoutMs,
    // Renews IDLE before the socket timeout, and well within the 30 minutes servers allow.
    maxIdleTime: Math.min(4 * 60_000, Math.floor(socketTimeoutMs / 2)),
    maxLiteralSize: limits.maxBytes + LITERAL_SLACK,
    maxResponseSize: limits.maxBytes + LITERAL_SLACK + MAX_LINE,
    maxLineLength: MAX_LINE,
  });
}

/**
 * Connects and logs in to the IMAP URL (`imap://user:pass@host:port/MAILBOX`, `imaps://…`) and opens
 * the mailbox. Failure is one line naming the server and folder, never the user or password.
 * One `messages()` at a time per mailbox.
 */
export async function connectImapMailbox(url: string, options: ImapMailboxOptions = {}): Promise<Mailbox> {
  const settings = parseImapUrl(url);
  const limits = mailboxLimits(options);
  const pollMs = positive(options.pollSeconds, 60, 'pollSeconds') * 1000;
  const connectTimeoutMs = positive(options.connectTimeoutMs, 30_000, 'connectTimeoutMs');
  const socketTimeoutMs = positive(options.socketTimeoutMs, 300_000, 'socketTimeoutMs');
  const describe = settings.description;
  const secrets = [settings.pass, settings.user];
  // imapflow's errors may carry the commands it sent, LOGIN included: they never become a cause.
  const failure = (code: string, action: string, error: unknown): BriefingError =>
    new BriefingError('returns', code, `${describe}: ${action}: ${reasonOf(error, secrets)}`);

  const client = imapClient(settings, limits, connectTimeoutMs, socketTimeoutMs);
  let lastError: unknown;
  let closing = false;
  // Without a listener an 'error' event would throw out of the socket's callback and end the process.
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  const attempt = async <T>(code: string, action: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw failure(code, action, error);
    }
  };
  const lost = (): BriefingError => failure('imap-connection-lost', 'the connection closed', lastError ?? new Error('closed by the server'));

  try {
    await client.connect();
  } catch (error) {
    client.close();
    throw failure('imap-connect-failed', 'cannot connect and log in', error);
  }
  try {
    // Without MOVE, imapflow moves by COPY, \Deleted and EXPUNGE; only UIDPLUS keeps that EXPUNGE to our own message.
    if (!client.capabilities.has('MOVE') && !client.capabilities.has('UIDPLUS')) {
      throw new BriefingError('returns', 'imap-cannot-move', `${describe}: the server offers neither MOVE nor UIDPLUS, so a message cannot be moved without expunging others`);
    }
    await attempt('imap-mailbox-missing', 'cannot open the mailbox', () => client.mailboxOpen(settings.mailbox));
  } catch (error) {
    await client.logout().catch(() => client.close());
    throw error;
  }

  const folder = settlementFolders(limits, (segments) =>
    attempt('imap-folder-failed', `cannot create the folder ${segments.join('/')}`, async () => {
      // imapflow joins the segments with the server's delimiter; an existing folder is no error.
      const created = await client.mailboxCreate([...segments]);
      // Subscribed, so a mail client shows the folder to the person who looks at unknown mail.
      if (created.created) await client.mailboxSubscribe(created.path);
      return created.path;
    }),
  );

  const message = async (uid: number, size: number | undefined, validity: bigint): Promise<ReturnedMessage | undefined> => {
    const range = String(uid);
    let raw: Buffer = Buffer.alloc(0);
    let oversized = size !== undefined && size > limits.maxBytes;
    if (!oversized) {
      const fetched: FetchMessageObject | false = await attempt('imap-fetch-failed', `cannot fetch message ${uid}`, () =>
        client.fetchOne(range, { source: true }, { uid: true }),
      );
      // Gone since it was listed: another client moved or expunged it.
      if (fetched === false || fetched.source === undefined) return undefined;
      oversized = fetched.source.length > limits.maxBytes;
      if (!oversized) raw = fetched.source;
    }
    let settled = false;
    return {
      id: `${validity}:${uid}`,
      raw,
      oversized,
      async settle(outcome) {
        if (settled) return;
        const target = await folder(outcome);
        await attempt('imap-move-failed', `cannot move message ${uid} to ${target}`, async () => {
          // A server that keeps no \Seen flag answers false here; the move below still happens.
          if (outcome === 'handled') await client.messageFlagsAdd(range, ['\\Seen'], { uid: true });
          if ((await client.messageMove(range, target, { uid: true })) === false) throw new Error('the server refused the MOVE');
        });
        settled = true;
      },
    };
  };

  /** The messages with a UID of at least `from`, oldest first (UID and size only). */
  const listFrom = async (from: number): Promise<Array<{ uid: number; size: number | undefined }>> => {
    if (client.mailbox === false || client.mailbox.exists === 0) return [];
    // `from:*` also matches the newest message when `from` is past it (RFC 3501), hence the filter.
    const found = await attempt('imap-fetch-failed', 'cannot list the mailbox', () => client.fetchAll(`${from}:*`, { uid: true, size: true }, { uid: true }));
    return found
      .filter((entry) => entry.uid >= from)
      .map((entry) => ({ uid: entry.uid, size: entry.size }))
      .sort((a, b) => a.uid - b.uid);
  };

  let changes = 0;
  client.on('exists', () => {
    changes += 1;
  });
  /** Resolves on new mail (EXISTS, pushed during IDLE), the poll interval, an abort or a closed connection. */
  const waitForChange = (since: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve) => {
      if (changes !== since || signal?.aborted === true || !client.usable) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        client.off('exists', done);
        client.off('close', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      client.on('exists', done);
      client.on('close', done);
      signal?.addEventListener('abort', done, { once: true });
      // Ends when the next command breaks it (imapflow sends DONE first); a failed IDLE leaves the poll timer.
      if (client.capabilities.has('IDLE')) void client.idle().catch(() => undefined);
    });

  return {
    describe,
    async *messages(signal) {
      // A function, so TypeScript does not keep the answer of an earlier check across awaits.
      const aborted = (): boolean => signal?.aborted === true;
      let next = 1;
      let validity = client.mailbox === false ? 0n : client.mailbox.uidValidity;
      for (;;) {
        if (aborted()) return;
        if (!client.usable) throw lost();
        const since = changes;
        if (client.mailbox !== false && client.mailbox.uidValidity !== validity) {
          // The server renumbered the folder: every message is new again.
          validity = client.mailbox.uidValidity;
          next = 1;
        }
        for (const { uid, size } of await listFrom(next)) {
          if (aborted()) return;
          next = uid + 1;
          const returned = await message(uid, size, validity);
          if (returned !== undefined) yield returned;
        }
        if (options.watch !== true) return;
        await waitForChange(since, signal);
        if (aborted()) return;
        if (!client.usable) throw lost();
        // Without IDLE nothing reports new mail until a command is sent: NOOP asks for the news (RFC 3501 6.1.2).
        await attempt('imap-poll-failed', 'cannot poll the mailbox', () => client.noop());
      }
    },
    async close() {
      if (closing) return;
      closing = true;
      if (client.usable) await client.logout().catch(() => client.close());
      else client.close();
    },
  };
}
