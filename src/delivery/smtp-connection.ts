import net from 'node:net';
import tls from 'node:tls';
import { Buffer } from 'node:buffer';
import { isBriefingError } from '../errors.js';
import { checkAddress, needsSmtpUtf8 } from './mime-header.js';
import type { SmtpSettings } from './smtp-url.js';
import { TransportError, type OutgoingMessage, type SendReceipt } from './transport.js';

/** One reply of the server: its code and text (the lines of a multi-line reply joined). */
export interface SmtpReply {
  code: number;
  text: string;
}

/** What a connection needs from the settings, plus the command timeout. */
export type SmtpConnectionOptions = Pick<
  SmtpSettings,
  'host' | 'port' | 'tls' | 'rejectUnauthorized' | 'servername' | 'auth' | 'allowPlaintextAuth' | 'clientName'
> & { timeoutMs: number; connectionTimeoutMs: number; greetingTimeoutMs: number };

/** Why a connection could not be opened; `reachable` tells a refused TCP connection from a talking server. */
export class SmtpConnectError extends TransportError {
  readonly reachable: boolean;
  constructor(message: string, options: { temporary: boolean; fatal?: boolean; reachable: boolean; responseCode?: number | null; cause?: unknown }) {
    // No message is handed over before the session is open.
    super(message, { ...options, notTaken: true });
    this.name = 'SmtpConnectError';
    this.reachable = options.reachable;
  }
}

/** A server that gave no reply within the timeout; every message waiting on the connection gets the same one. */
export class SmtpNoReplyError extends TransportError {
  constructor(timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms`, { temporary: true });
    this.name = 'SmtpNoReplyError';
  }
}

type Stage = 'greeting' | 'EHLO' | 'STARTTLS' | 'AUTH' | 'MAIL FROM' | 'RCPT TO' | 'DATA' | 'end of data';

const MAX_REPLY_TEXT = 400;
/** Bytes of one reply line with its CRLF: RFC 5321 4.5.3.1.5 says 512; real servers run a little over. */
const MAX_REPLY_LINE_BYTES = 1000;
/** Lines of one reply: an EHLO reply has one per extension, a few dozen at most. */
const MAX_REPLY_LINES = 100;
/** Bytes of one reply, all its lines: with the line cap, what a hostile server can make us hold. */
const MAX_REPLY_BYTES = 32_768;
const CRLF_DOT_CRLF = Buffer.from('.\r\n', 'ascii');
const CRLF = Buffer.from('\r\n', 'ascii');
const EMPTY = Buffer.alloc(0);

/** A reply as stored and shown: code and text on one line, control characters removed, length capped. */
export function formatReply(reply: SmtpReply): string {
  const text = `${reply.code} ${reply.text}`.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return text.length > MAX_REPLY_TEXT ? `${text.slice(0, MAX_REPLY_TEXT)}…` : text;
}

/**
 * SMTP's transparency rule (RFC 5321 4.5.2) on data made safe first: every bare CR and bare LF
 * becomes CRLF (RFC 5321 2.3.8 allows no other line end), then a line that starts with a dot gets
 * another, and the data ends in CRLF. So no input, however built, can end the data early with
 * `CRLF.CRLF` or smuggle a line end a server reads differently.
 */
export function dotStuff(input: Buffer): Buffer {
  // Messages are CRLF already: one scan of the LFs checks them and finds the dots, one of the CRs
  // counts them (native scans, a line each: a message costs a few microseconds more, not a copy).
  const positions: number[] = input[0] === 0x2e ? [0] : [];
  let lines = 0;
  for (let at = input.indexOf(0x0a); at !== -1; at = input.indexOf(0x0a, at + 1)) {
    if (input[at - 1] !== 0x0d) return dotStuff(toCrlf(input));
    lines += 1;
    if (input[at + 1] === 0x2e) positions.push(at + 1);
  }
  // Every LF follows a CR, so a CR more than there are LFs is a bare one.
  let crs = 0;
  for (let at = input.indexOf(0x0d); at !== -1 && crs <= lines; at = input.indexOf(0x0d, at + 1)) crs += 1;
  if (crs !== lines) return dotStuff(toCrlf(input));
  const endsWithCrlf = input.length >= 2 && input[input.length - 2] === 0x0d && input[input.length - 1] === 0x0a;
  if (positions.length === 0 && endsWithCrlf) return input;
  const parts: Buffer[] = [];
  let from = 0;
  for (const position of positions) {
    parts.push(input.subarray(from, position), Buffer.from('.'));
    from = position;
  }
  parts.push(input.subarray(from));
  if (!endsWithCrlf) parts.push(CRLF);
  return Buffer.concat(parts);
}

/** Every CRLF, bare CR and bare LF as one CRLF. */
function toCrlf(raw: Buffer): Buffer {
  const out = Buffer.allocUnsafe(raw.length * 2);
  let length = 0;
  for (let at = 0; at < raw.length; at += 1) {
    const byte = raw[at] as number;
    if (byte !== 0x0d && byte !== 0x0a) {
      out[length++] = byte;
      continue;
    }
    out[length++] = 0x0d;
    out[length++] = 0x0a;
    if (byte === 0x0d && raw[at + 1] === 0x0a) at += 1;
  }
  return out.subarray(0, length);
}

function enhancedCode(reply: SmtpReply): string | undefined {
  return /^([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply.text)?.[1];
}

/** Turns a refusal at a stage into a TransportError: 4xx retry, 5xx fail, recipient 55x/5.1.x bounce. */
function replyError(reply: SmtpReply, stage: Stage): TransportError {
  const enhanced = enhancedCode(reply);
  const permanent = reply.code >= 500;
  const bounce = permanent && stage === 'RCPT TO' && ([550, 551, 553].includes(reply.code) || (enhanced?.startsWith('5.1.') ?? false));
  return new TransportError(`${formatReply(reply)} (${stage})`, { temporary: !permanent, responseCode: reply.code, bounce, notTaken: true });
}

/**
 * One SMTP client connection (RFC 5321) on node:net/tls, kept open for many messages. With
 * PIPELINING (RFC 2920) it sends MAIL FROM, RCPT TO and DATA in one write, and the next message's
 * right after the previous one's data. A reset, a timeout or a 421 make it unusable; the pool
 * replaces it.
 */
export class SmtpConnection {
  private socket: net.Socket;
  /** Bytes after the last complete line: less than MAX_REPLY_LINE_BYTES. */
  private pending: Buffer = EMPTY;
  private replyLines: string[] = [];
  private replyBytes = 0;
  private waiters: Array<{ resolve: (reply: SmtpReply) => void; reject: (error: TransportError) => void }> = [];
  private broken: TransportError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timeoutMs: number;
  private capabilities = new Map<string, string>();
  private needsReset = false;
  /** STARTTLS is sent and unanswered: after its 220 nothing may come before the TLS handshake. */
  private startingTls = false;

  private constructor(
    socket: net.Socket,
    private readonly options: SmtpConnectionOptions,
  ) {
    this.socket = socket;
    this.timeoutMs = options.greetingTimeoutMs;
    this.attach(socket);
  }

  /** Connects, reads the greeting, says EHLO, upgrades with STARTTLS and logs in as the settings say. */
  static async open(options: SmtpConnectionOptions): Promise<SmtpConnection> {
    const socket = await connectSocket(options);
    const connection = new SmtpConnection(socket, options);
    try {
      await connection.handshake();
    } catch (error) {
      connection.destroy();
      throw error instanceof SmtpConnectError ? error : toConnectError(error);
    }
    return connection;
  }

  /** False once the connection broke, timed out or the server said 421. */
  get usable(): boolean {
    return this.broken === undefined && !this.socket.destroyed;
  }

  private attach(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.fail(new TransportError(`connection error: ${error.code ?? error.message}`, { temporary: true, cause: error }));
    });
    socket.on('close', () => this.fail(new TransportError('connection closed by the server', { temporary: true })));
  }

  /**
   * Splits what arrived into reply lines and replies. Every byte is bounded (a line, the lines and
   * bytes of one reply): a server that streams an endless reply is a protocol error, not a way to
   * fill our memory. Lines are whole before they are decoded, so a UTF-8 character (RFC 6531
   * servers) split between two packets stays whole.
   */
  private receive(chunk: Buffer): void {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let start = 0;
    for (let end = data.indexOf(0x0a); end !== -1; end = data.indexOf(0x0a, start)) {
      const size = end + 1 - start;
      if (size > MAX_REPLY_LINE_BYTES) return this.protocolError(`a reply line longer than ${MAX_REPLY_LINE_BYTES} bytes`);
      const line = data.toString('utf8', start, data[end - 1] === 0x0d ? end - 1 : end);
      start = end + 1;
      const match = /^([2-5][0-9][0-9])([ -]|$)(.*)$/.exec(line);
      if (!match) return this.protocolError('something that is not an SMTP reply');
      this.replyLines.push(match[3] ?? '');
      this.replyBytes += size;
      if (match[2] === '-') {
        if (this.replyLines.length >= MAX_REPLY_LINES) return this.protocolError(`a reply of more than ${MAX_REPLY_LINES} lines`);
        if (this.replyBytes > MAX_REPLY_BYTES) return this.protocolError(`a reply of more than ${MAX_REPLY_BYTES} bytes`);
        continue;
      }
      const reply = { code: Number(match[1]), text: this.replyLines.join(' | ') };
      this.replyLines = [];
      this.replyBytes = 0;
      if (this.startingTls && reply.code === 220 && start < data.length) {
        // Plain text after the go-ahead would be read as if it came over TLS (CVE-2011-0411).
        return this.protocolError('plain text after its 220 reply to STARTTLS, before the TLS handshake (a command injection?)');
      }
      this.deliver(reply);
    }
    // A copy: a view would keep the whole chunk alive.
    this.pending = start === data.length ? EMPTY : Buffer.from(data.subarray(start));
    if (this.pending.length >= MAX_REPLY_LINE_BYTES) this.protocolError(`a reply line longer than ${MAX_REPLY_LINE_BYTES} bytes`);
  }

  /** The server broke the protocol: the connection is dropped and its messages retried, like after a reset. */
  private protocolError(what: string): void {
    this.fail(new TransportError(`protocol error: ${this.options.host}:${this.options.port} sent ${what}`, { temporary: true }));
    this.pending = EMPTY;
    this.replyLines = [];
    this.socket.destroy();
  }

  private deliver(reply: SmtpReply): void {
    if (reply.code === 421) {
      // The server is closing the channel: everything still pending fails, to be retried.
      this.fail(new TransportError(`${formatReply(reply)} (server closing the connection)`, { temporary: true, responseCode: 421, notTaken: true }));
      this.socket.end();
      return;
    }
    const waiter = this.waiters.shift();
    this.armTimer();
    if (waiter) waiter.resolve(reply);
    else this.fail(new TransportError(`unexpected reply: ${formatReply(reply)}`, { temporary: true }));
  }

  private fail(error: TransportError): void {
    this.broken ??= error;
    const waiters = this.waiters;
    this.waiters = [];
    this.armTimer();
    for (const waiter of waiters) waiter.reject(this.broken);
  }

  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiters.length === 0) return;
    const timer = setTimeout(() => {
      // Timers run before sockets are read: after a busy spell the reply may already be waiting.
      // Decide after this turn's reads (setImmediate runs after them), or a message the server
      // accepted would be retried and arrive twice.
      setImmediate(() => {
        if (this.timer !== timer) return;
        this.fail(new SmtpNoReplyError(this.timeoutMs));
        this.socket.destroy();
      });
    }, this.timeoutMs);
    this.timer = timer;
  }

  /** Resolves with the next reply (in order); rejects when the connection breaks first. */
  private nextReply(): Promise<SmtpReply> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.waiters.length === 1) this.armTimer();
    });
  }

  private write(data: string | Buffer): void {
    if (this.usable) this.socket.write(data);
  }

  private async command(line: string): Promise<SmtpReply> {
    const reply = this.nextReply();
    this.write(`${line}\r\n`);
    return reply;
  }

  private async handshake(): Promise<void> {
    const greeting = await this.nextReply();
    if (greeting.code !== 220) throw connectError(greeting, 'greeting');
    this.timeoutMs = this.options.timeoutMs;
    await this.hello();
    const encrypted = this.socket instanceof tls.TLSSocket;
    if (!encrypted && (this.options.tls === 'required' || (this.options.tls === 'opportunistic' && this.capabilities.has('STARTTLS')))) {
      if (!this.capabilities.has('STARTTLS')) {
        throw new SmtpConnectError('the server does not offer STARTTLS, which is required for a host that is not loopback (add ?requireTLS=false to the URL to allow plain text)', {
          temporary: false,
          fatal: true,
          reachable: true,
        });
      }
      this.startingTls = true;
      const reply = await this.command('STARTTLS');
      this.startingTls = false;
      if (reply.code !== 220) throw connectError(reply, 'STARTTLS');
      await this.upgrade();
      // Only what the server says over TLS counts: the capabilities come from this EHLO alone.
      await this.hello();
    }
    if (this.options.auth) await this.login(this.options.auth, this.socket instanceof tls.TLSSocket);
  }

  private async hello(): Promise<void> {
    let reply = await this.command(`EHLO ${this.options.clientName}`);
    this.capabilities = new Map();
    if (reply.code >= 500) {
      reply = await this.command(`HELO ${this.options.clientName}`);
      if (reply.code !== 250) throw connectError(reply, 'EHLO');
      return;
    }
    if (reply.code !== 250) throw connectError(reply, 'EHLO');
    for (const line of reply.text.split(' | ').slice(1)) {
      const [keyword = '', ...rest] = line.trim().split(/\s+/);
      this.capabilities.set(keyword.toUpperCase(), rest.join(' ').toUpperCase());
    }
  }

  private async upgrade(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('error');
    plain.removeAllListeners('close');
    // Nothing read in plain text carries over (receive refused any byte after the 220).
    this.pending = EMPTY;
    this.replyLines = [];
    this.replyBytes = 0;
    this.capabilities = new Map();
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({
        socket: plain,
        servername: this.options.servername,
        rejectUnauthorized: this.options.rejectUnauthorized,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmtpConnectError('TLS handshake timed out', { temporary: true, reachable: true }));
      }, this.options.timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(tlsError(error));
      });
    });
    this.socket = secure;
    this.attach(secure);
  }

  private async login(auth: NonNullable<SmtpSettings['auth']>, encrypted: boolean): Promise<void> {
    if (!encrypted && !this.options.allowPlaintextAuth) {
      throw new SmtpConnectError('refusing to send the SMTP password over an unencrypted connection (use smtps://, STARTTLS, or ?insecure=true)', {
        temporary: false,
        fatal: true,
        reachable: true,
      });
    }
    const offered = this.capabilities.get('AUTH')?.split(' ') ?? [];
    const method = auth.method ?? (offered.includes('PLAIN') || !offered.includes('LOGIN') ? 'PLAIN' : 'LOGIN');
    let reply: SmtpReply;
    if (method === 'PLAIN') {
      reply = await this.command(`AUTH PLAIN ${Buffer.from(`\0${auth.user}\0${auth.pass}`, 'utf8').toString('base64')}`);
    } else {
      reply = await this.command('AUTH LOGIN');
      if (reply.code === 334) reply = await this.command(Buffer.from(auth.user, 'utf8').toString('base64'));
      if (reply.code === 334) reply = await this.command(Buffer.from(auth.pass, 'utf8').toString('base64'));
    }
    if (reply.code !== 235) throw connectError({ code: reply.code, text: redact(reply.text, auth) }, 'AUTH');
  }

  /**
   * Starts one message. `accepted` resolves once the server took it (250 after the data) or rejects
   * with a TransportError that says whether to retry (4xx, resets, timeouts) or not (5xx; bounce
   * for a refused recipient). With PIPELINING, `written` settles as soon as the data is on the
   * wire: the next message's MAIL FROM, RCPT TO and DATA may then follow at once, before this one's
   * final reply (RFC 2920 lets message content start a group), so a message costs one round trip.
   */
  start(message: OutgoingMessage): { written: Promise<void>; accepted: Promise<SendReceipt> } {
    let markWritten = (): void => undefined;
    const written = new Promise<void>((resolve) => (markWritten = resolve));
    const accepted = this.transaction(message, this.capabilities.has('PIPELINING') ? () => markWritten() : () => undefined);
    accepted.then(markWritten, markWritten);
    return { written, accepted };
  }

  private async transaction(message: OutgoingMessage, written: () => void): Promise<SendReceipt> {
    let from: string;
    let to: string;
    try {
      from = checkAddress(message.envelope.from, 'the envelope sender');
      to = checkAddress(message.envelope.to, 'the envelope recipient');
    } catch (error) {
      if (isBriefingError(error)) throw new TransportError(error.message, { temporary: false });
      throw error;
    }
    const utf8 = needsSmtpUtf8(from) || needsSmtpUtf8(to);
    if (utf8 && !this.capabilities.has('SMTPUTF8')) {
      throw new TransportError(`the server does not offer SMTPUTF8, which the address ${to} needs`, { temporary: false });
    }
    const parameters = `${this.capabilities.has('SIZE') ? ` SIZE=${message.raw.length}` : ''}${utf8 ? ' SMTPUTF8' : ''}`;
    const reset = this.needsReset;
    this.needsReset = false;
    let replies: SmtpReply[];
    if (this.capabilities.has('PIPELINING')) {
      const pending = Array.from({ length: reset ? 4 : 3 }, () => this.nextReply());
      this.write(`${reset ? 'RSET\r\n' : ''}MAIL FROM:<${from}>${parameters}\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
      replies = await Promise.all(pending);
    } else {
      replies = reset ? [await this.command('RSET')] : [];
      replies.push(await this.command(`MAIL FROM:<${from}>${parameters}`));
      if (replies.at(-1)?.code === 250) replies.push(await this.command(`RCPT TO:<${to}>`));
      if (replies.at(-1)?.code === 250 || replies.at(-1)?.code === 251) replies.push(await this.command('DATA'));
    }
    if (reset && replies.shift()?.code !== 250) {
      this.destroy();
      throw new TransportError('the server did not accept RSET', { temporary: true });
    }
    const [mail, rcpt, data] = replies;
    const refusal =
      mail?.code !== 250
        ? mail && replyError(mail, 'MAIL FROM')
        : rcpt?.code !== 250 && rcpt?.code !== 251
          ? rcpt && replyError(rcpt, 'RCPT TO')
          : data?.code !== 354
            ? data && replyError(data, 'DATA')
            : undefined;
    if (refusal) {
      // DATA may have been accepted although the recipient was not (RFC 2920 3.1): end it empty.
      if (data?.code === 354) await this.command('.');
      // The transaction is left half done: the next message starts with RSET.
      this.needsReset = true;
      throw refusal;
    }
    const done = this.nextReply();
    const socket = this.socket;
    socket.cork();
    this.write(message.dotSafe === true ? message.raw : dotStuff(message.raw));
    this.write(CRLF_DOT_CRLF);
    written();
    // The socket stays corked until the promise jobs this turn runs are done, so the next
    // message's pipelined MAIL FROM, RCPT TO and DATA (started by `written`) leave in the same
    // segment as this data's end: a server then answers all four at once, where a separate small
    // write of ours would make it send two small replies, the second held back by its Nagle
    // algorithm until our delayed ACK.
    process.nextTick(() => socket.uncork());
    // After the reply to the data the transaction is over, accepted or not: no RSET needed.
    const final = await done;
    if (final.code !== 250) throw replyError(final, 'end of data');
    return { reply: formatReply(final) };
  }

  /** Says QUIT and closes (waits at most a second for the server). */
  async close(): Promise<void> {
    if (this.usable) {
      await Promise.race([this.command('QUIT').catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    this.destroy();
  }

  destroy(): void {
    this.broken ??= new TransportError('connection closed', { temporary: true });
    if (this.timer) clearTimeout(this.timer);
    this.socket.destroy();
  }
}

function connectError(reply: SmtpReply, stage: Stage): SmtpConnectError {
  const permanent = reply.code >= 500;
  // A server that refuses us or our login for good needs an operator, not retries.
  return new SmtpConnectError(`${formatReply(reply)} (${stage})`, { temporary: !permanent, fatal: permanent, reachable: true, responseCode: reply.code });
}

/** A reply to AUTH without the credentials, plain or base64, that a server may echo back. */
function redact(text: string, auth: NonNullable<SmtpSettings['auth']>): string {
  const base64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64');
  const secrets = [auth.pass, auth.user, base64(auth.pass), base64(auth.user), base64(`\0${auth.user}\0${auth.pass}`)]
    .filter((secret) => secret.length > 0)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((redacted, secret) => redacted.split(secret).join('[redacted]'), text);
}

function tlsError(error: NodeJS.ErrnoException): SmtpConnectError {
  const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/i.test(`${error.code ?? ''} ${error.message}`);
  return new SmtpConnectError(`TLS failed: ${error.code ?? error.message}${certificate ? ' (the server certificate was refused; tls.rejectUnauthorized=false skips the check for test servers)' : ''}`, {
    temporary: !certificate,
    fatal: certificate,
    reachable: true,
    cause: error,
  });
}

function toConnectError(error: unknown): SmtpConnectError {
  if (error instanceof TransportError) return new SmtpConnectError(error.message, { temporary: error.temporary, fatal: error.fatal, reachable: true, cause: error });
  return new SmtpConnectError(`connection failed: ${String(error)}`, { temporary: true, reachable: true, cause: error });
}

function connectSocket(options: SmtpConnectionOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      options.tls === 'implicit'
        ? tls.connect({ host: options.host, port: options.port, servername: options.servername, rejectUnauthorized: options.rejectUnauthorized })
        : net.connect({ host: options.host, port: options.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SmtpConnectError(`no connection to ${options.host}:${options.port} within ${options.connectionTimeoutMs} ms`, { temporary: true, reachable: false }));
    }, options.connectionTimeoutMs);
    socket.once(options.tls === 'implicit' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const tcp = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT'].includes(error.code ?? '');
      reject(tcp ? new SmtpConnectError(`cannot connect to ${options.host}:${options.port}: ${error.code}`, { temporary: true, reachable: false, cause: error }) : tlsError(error));
    });
  });
}
