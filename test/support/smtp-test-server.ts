/**
 * A real SMTP server for tests (the `smtp-server` package, in process, on 127.0.0.1 and a random
 * port) that records what it accepted by Message-ID and can misbehave on purpose: temporary replies
 * (421/451/452), 550 for chosen recipients, 552 for big messages, dropped connections at each stage
 * of a transaction, and stalls. Faults are drawn from a seeded generator, so a run can be repeated.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { seededRandom } from '../../src/bench/seeded-random.js';

/** Stages of a transaction where a fault can strike. */
export type FaultStage = 'connect' | 'mail' | 'rcpt' | 'data' | 'accepted';

export interface FaultPlan {
  seed?: number;
  /** Per command (MAIL, RCPT, end of data), probability of a 421, 451 or 452 reply. */
  temporaryRate?: number;
  /** Per stage, probability that the server drops the connection there. At `data` the message is
   * dropped before it is accepted; at `accepted` it is recorded as accepted and then the connection
   * is reset before the 250 reaches the client (the race that may cause one duplicate). */
  dropRate?: number;
  dropStages?: readonly FaultStage[];
  /** Per command, probability of never answering (the client must time out). */
  stallRate?: number;
  /** Recipients refused with `550 5.1.1`. */
  rejectRecipients?: ReadonlySet<string>;
  /** Messages larger than this are refused with 552 (at MAIL FROM when the client sends SIZE=). */
  maxSize?: number;
  /** Keep the size limit out of EHLO, so only the end of data can refuse a big message. */
  hideSize?: boolean;
  /** Do not offer SMTPUTF8 (RFC 6531). */
  hideSmtpUtf8?: boolean;
  /** Do not offer PIPELINING (RFC 2920): the client must wait for each reply. */
  hidePipelining?: boolean;
}

export interface ReceivedMessage {
  messageId: string;
  from: string;
  to: string[];
  raw: Buffer;
}

export interface SmtpTestServer {
  port: number;
  /** `smtp://127.0.0.1:<port>` */
  url: string;
  /** Accepted messages in order (raw bytes only when `keepRaw`). */
  readonly messages: ReceivedMessage[];
  /** How many times each Message-ID was accepted. */
  readonly counts: Map<string, number>;
  /** Faults injected so far, by kind (`421`, `451`, `452`, `550`, `552`, `drop:<stage>`, `stall`). */
  readonly faults: Map<string, number>;
  /** Messages accepted and then cut off before the client heard the 250 (`drop:accepted`), and how often. */
  readonly raced: Map<string, number>;
  /** Sessions that logged in, as user names. */
  readonly logins: string[];
  /** Connections the server has taken so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly openConnections: number;
  setFaults(plan: FaultPlan): void;
  /** Resolves once `count` messages have been accepted in all (checked on every turn of the event loop). */
  arrivals(count: number): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpTestServerOptions extends FaultPlan {
  keepRaw?: boolean;
  /** Offer STARTTLS (with smtp-server's self-signed certificate); hidden by default. */
  starttls?: boolean;
  /** Require AUTH with this user and password. */
  auth?: { user: string; pass: string };
  /** Require AUTH XOAUTH2 (the only method offered) with this user and OAuth2 access token. */
  oauth2?: { user: string; accessToken: string };
}

/** The Message-ID of raw message bytes (the first one in the header block). */
export function messageIdOf(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
  return /^Message-ID:[ \t]*(<[^>\r\n]+>)/im.exec(head)?.[1] ?? '';
}

function replyError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Starts the server on 127.0.0.1 with a random port. */
export async function startSmtpTestServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  let plan: FaultPlan = options;
  let random = seededRandom(plan.seed ?? 1);
  const messages: ReceivedMessage[] = [];
  const counts = new Map<string, number>();
  const faults = new Map<string, number>();
  const raced = new Map<string, number>();
  const logins: string[] = [];
  let connections = 0;
  const count = (kind: string): void => {
    faults.set(kind, (faults.get(kind) ?? 0) + 1);
  };

  let server: SMTPServer;
  const dropConnection = (session: SMTPServerSession): void => {
    for (const connection of server.connections as Set<{ id: string; _socket?: { destroy(): void } }>) {
      if (connection.id === session.id) connection._socket?.destroy();
    }
  };

  /** Decides a fault for a stage: 'drop', 'stall', a temporary code, or undefined (behave). */
  const fault = (stage: FaultStage, temporary: boolean): 'drop' | 'stall' | number | undefined => {
    if ((plan.dropStages ?? ['connect', 'mail', 'rcpt', 'data', 'accepted']).includes(stage) && random() < (plan.dropRate ?? 0)) return 'drop';
    if (stage !== 'accepted' && random() < (plan.stallRate ?? 0)) return 'stall';
    if (temporary && random() < (plan.temporaryRate ?? 0)) return [421, 451, 452][Math.floor(random() * 3)];
    return undefined;
  };

  /** Applies a fault to a command's callback; true when the command must not go on. */
  const misbehave = (stage: FaultStage, session: SMTPServerSession, callback: (error?: Error) => void, temporary = true): boolean => {
    const chosen = fault(stage, temporary);
    if (chosen === undefined) return false;
    if (chosen === 'drop') {
      count(`drop:${stage}`);
      dropConnection(session);
    } else if (chosen === 'stall') {
      count('stall');
    } else {
      count(String(chosen));
      callback(replyError(chosen, chosen === 421 ? 'Service shutting down, try later' : 'Try again later'));
    }
    return true;
  };

  const serverOptions: SMTPServerOptions = {
    logger: false,
    disableReverseLookup: true,
    hideSTARTTLS: !options.starttls,
    authOptional: options.auth === undefined && options.oauth2 === undefined,
    ...(options.auth === undefined && options.oauth2 === undefined ? { disabledCommands: ['AUTH'] } : { allowInsecureAuth: true }),
    ...(options.oauth2 === undefined ? {} : { authMethods: ['XOAUTH2'] }),
    size: plan.maxSize ?? 0,
    hideSize: plan.hideSize ?? false,
    hideSMTPUTF8: plan.hideSmtpUtf8 ?? false,
    hidePIPELINING: plan.hidePipelining ?? false,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      const accepted =
        options.oauth2 === undefined
          ? auth.username !== undefined && auth.username === options.auth?.user && auth.password === options.auth.pass
          : auth.method === 'XOAUTH2' && auth.username === options.oauth2.user && auth.accessToken === options.oauth2.accessToken;
      if (accepted && auth.username !== undefined) {
        logins.push(auth.username);
        callback(null, { user: auth.username });
      } else {
        callback(replyError(535, '5.7.8 Authentication credentials invalid'));
      }
    },
    onConnect(session, callback) {
      connections += 1;
      if (!misbehave('connect', session, callback)) callback();
    },
    onMailFrom(_address, session, callback) {
      if (!misbehave('mail', session, callback)) callback();
    },
    onRcptTo(address, session, callback) {
      if (plan.rejectRecipients?.has(address.address)) {
        count('550');
        callback(replyError(550, '5.1.1 No such user here'));
        return;
      }
      if (!misbehave('rcpt', session, callback)) callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          count('552');
          callback(replyError(552, '5.3.4 Message too big'));
          return;
        }
        if (misbehave('data', session, callback)) return;
        const raw = Buffer.concat(chunks);
        const messageId = messageIdOf(raw);
        const record = (): void => {
          counts.set(messageId, (counts.get(messageId) ?? 0) + 1);
          messages.push({
            messageId,
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            raw: options.keepRaw ? raw : Buffer.alloc(0),
          });
        };
        if (fault('accepted', false) === 'drop') {
          count('drop:accepted');
          record();
          raced.set(messageId, (raced.get(messageId) ?? 0) + 1);
          dropConnection(session);
          return;
        }
        record();
        callback(null, `2.0.0 Ok: queued as ${messages.length}`);
      });
    },
  };
  server = new SMTPServer(serverOptions);
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    counts,
    faults,
    raced,
    logins,
    get connections() {
      return connections;
    },
    get openConnections() {
      return (server.connections as Set<unknown>).size;
    },
    setFaults(next) {
      plan = { ...options, ...next };
      random = seededRandom(plan.seed ?? 1);
    },
    arrivals(target) {
      return new Promise((resolve) => {
        const check = (): void => {
          if (messages.length >= target) resolve();
          else setImmediate(check);
        };
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
