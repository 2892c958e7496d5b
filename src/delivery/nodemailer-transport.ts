import nodemailer from 'nodemailer';
import type SendmailTransport from 'nodemailer/lib/sendmail-transport/index.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { BriefingError } from '../errors.js';
import type { SmtpSettings } from './smtp-url.js';
import { TransportError, type OutgoingMessage, type SendReceipt, type Transport } from './transport.js';

/** What nodemailer attaches to the errors of its SMTP transports. */
interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
}

/** Connection failures in a row, with no message accepted in between, after which the server counts as down. */
const DOWN_AFTER_FAILURES = 3;
const CONNECTION_CODES = new Set(['ECONNECTION', 'EDNS', 'ETIMEDOUT', 'ESOCKET']);

/** How the nodemailer SMTP pool is sized, timed and (with an OAuth2 access token) logs in. */
export interface NodemailerPoolOptions {
  maxConnections: number;
  timeoutMs: number;
  /** BRIEFING_SMTP_OAUTH2_TOKEN: log in with XOAUTH2 as the URL's user; never renewed (no refresh flow). */
  oauth2AccessToken?: string | undefined;
}

/** The login of the pool: none, the URL's user and password, or XOAUTH2 with the URL's user and the access token. */
function login(settings: SmtpSettings, accessToken: string | undefined): Pick<SMTPPool.Options, 'auth' | 'authMethod'> {
  if (accessToken !== undefined) {
    const refuse = (problem: string): BriefingError => new BriefingError('config', 'invalid-oauth2', `BRIEFING_SMTP_OAUTH2_TOKEN ${problem}`);
    if (settings.auth === undefined) throw refuse('needs a user in BRIEFING_SMTP_URL (smtp://user@host:587) to log in as');
    if (settings.auth.pass !== '') throw refuse('and a password in BRIEFING_SMTP_URL are two logins: drop the password');
    if (settings.auth.method !== undefined) throw refuse('logs in with XOAUTH2: drop authMethod from BRIEFING_SMTP_URL');
    return { auth: { type: 'OAuth2', user: settings.auth.user, accessToken } };
  }
  if (settings.auth === undefined) return {};
  return { auth: { user: settings.auth.user, pass: settings.auth.pass }, ...(settings.auth.method ? { authMethod: settings.auth.method } : {}) };
}

/** nodemailer's pool options for the checked settings of BRIEFING_SMTP_URL: the same TLS rule as Briefing's own client. */
function poolOptions(settings: SmtpSettings, options: NodemailerPoolOptions): SMTPPool.Options {
  // A password must not cross the network in the clear: opportunistic TLS becomes required TLS then.
  const mustEncrypt = settings.auth !== undefined && !settings.allowPlaintextAuth;
  return {
    pool: true,
    host: settings.host,
    port: settings.port,
    secure: settings.tls === 'implicit',
    requireTLS: settings.tls === 'required' || (settings.tls === 'opportunistic' && mustEncrypt),
    ignoreTLS: settings.tls === 'none',
    tls: { rejectUnauthorized: settings.rejectUnauthorized, ...(settings.servername === undefined ? {} : { servername: settings.servername }) },
    ...login(settings, options.oauth2AccessToken),
    name: settings.clientName,
    maxConnections: settings.maxConnections ?? options.maxConnections,
    maxMessages: settings.maxMessages,
    connectionTimeout: settings.connectionTimeoutMs ?? Math.min(options.timeoutMs, 30_000),
    greetingTimeout: settings.greetingTimeoutMs ?? Math.min(options.timeoutMs, 30_000),
    socketTimeout: settings.socketTimeoutMs ?? options.timeoutMs,
    logger: false,
  };
}

/**
 * A Transport through nodemailer's SMTP pool (BRIEFING_TRANSPORT=nodemailer), for operators who
 * want nodemailer's SMTP client; Briefing's pipelined client stays the default and the fast path.
 * Each prepared message goes as it is (nodemailer's `raw`) with its own envelope. Errors map as
 * the pipelined client's do: 4xx and dropped connections are temporary, 5xx permanent, a refused
 * recipient a bounce, and a server that cannot be reached, refuses the login or TLS is fatal.
 * With `oauth2AccessToken` it logs in with XOAUTH2 as the URL's user; a URL with a password too is a config error.
 */
export function createNodemailerTransport(settings: SmtpSettings, options: NodemailerPoolOptions): Transport {
  const description = `nodemailer ${settings.description}`;
  // Built now, so a token that cannot be used is a config error before anything is sent.
  const poolSettings = poolOptions(settings, options);
  const secrets = [settings.auth?.pass, options.oauth2AccessToken].filter((secret): secret is string => secret !== undefined && secret !== '');
  let pool: nodemailer.Transporter | undefined;
  let failuresInARow = 0;
  let everAccepted = false;
  let closed = false;

  /** The error's text, on one line and without the password or token: nodemailer's messages do not quote them, and an upgrade must not change that. */
  function text(error: NodemailerError): string {
    const message = error.message.replace(/\s+/g, ' ').trim();
    return secrets.reduce((redacted, secret) => redacted.split(secret).join('***'), message);
  }

  function classify(error: NodemailerError): TransportError {
    const code = error.responseCode ?? null;
    const what = `${text(error)}${error.command ? ` (${error.command})` : ''}`;
    if (error.code === 'EAUTH' || error.code === 'ETLS' || error.code === 'ENOAUTH') {
      return new TransportError(`${what} (${settings.description}: the send stops and can resume)`, { temporary: code === null || code < 500, fatal: true, responseCode: code, notTaken: true });
    }
    if (code !== null && error.command !== 'CONN') {
      const permanent = code >= 500;
      const bounce = permanent && error.command === 'RCPT TO' && ([550, 551, 553].includes(code) || / 5\.1\.\d/.test(error.message));
      return new TransportError(what, { temporary: !permanent, responseCode: code, bounce, notTaken: true });
    }
    if (error.code !== undefined && CONNECTION_CODES.has(error.code)) {
      failuresInARow += 1;
      if (!everAccepted || failuresInARow >= DOWN_AFTER_FAILURES) {
        return new TransportError(`${what} (${settings.description} cannot be reached; the send stops and can resume)`, { temporary: true, fatal: true });
      }
    }
    // A reply to the connection (a refused greeting) comes before any message; a socket error may come after the data.
    return new TransportError(what, { temporary: code === null || code < 500, responseCode: code, notTaken: code !== null || error.code === 'EDNS' });
  }

  // Known from the settings alone: every send refuses, none connects.
  const plaintextPassword = settings.tls === 'none' && settings.auth !== undefined && !settings.allowPlaintextAuth;
  return {
    description,
    ...(settings.messagesPerSecond === undefined ? {} : { messagesPerSecond: settings.messagesPerSecond }),
    async send(message) {
      if (closed) throw new TransportError('the nodemailer transport is closed', { temporary: true });
      if (plaintextPassword) {
        throw new TransportError('refusing to send the SMTP password over an unencrypted connection (use smtps://, STARTTLS, or ?insecure=true)', { temporary: false, fatal: true });
      }
      pool ??= nodemailer.createTransport(poolSettings);
      try {
        const receipt = await sendRaw(pool, message);
        everAccepted = true;
        failuresInARow = 0;
        return receipt;
      } catch (error) {
        throw classify(error as NodemailerError);
      }
    },
    async close() {
      closed = true;
      pool?.close();
    },
  };
}

/** sysexits(3) codes a sendmail program exits with: the address is refused for good, the message is refused, try later. */
const SENDMAIL_BOUNCE = new Set([67, 68]);
const SENDMAIL_PERMANENT = new Set([64, 65]);
const SENDMAIL_MISSING = new Set([126, 127]);

/** Hands a prepared message to nodemailer and settles like `send`. */
async function sendRaw(transporter: nodemailer.Transporter, message: OutgoingMessage): Promise<SendReceipt> {
  const info = (await transporter.sendMail({ envelope: message.envelope, raw: message.raw })) as { response?: string };
  return { reply: info.response ?? 'accepted' };
}

/**
 * A Transport through nodemailer's sendmail transport (`BRIEFING_SMTP_URL=sendmail:` or
 * `sendmail:/path/to/sendmail`): each message is piped to the local mail program, which queues
 * it. A program that cannot be started is fatal; its exit code says whether to retry (sysexits:
 * 67/68 refuse the address, 64/65 the message; anything else, such as 75, is temporary).
 */
export function createSendmailTransport(path: string): Transport {
  const options: SendmailTransport.Options = { sendmail: true, path };
  const transporter = nodemailer.createTransport(options);
  return {
    description: `nodemailer sendmail ${path}`,
    async send(message) {
      try {
        return await sendRaw(transporter, message);
      } catch (error) {
        const caught = error as NodejsError;
        const exit = Number(/exited with code (\d+)/.exec(caught.message)?.[1] ?? Number.NaN);
        if (caught.code !== undefined || SENDMAIL_MISSING.has(exit)) {
          throw new TransportError(`cannot run ${path}: ${caught.code ?? caught.message} (the send stops and can resume)`, { temporary: true, fatal: true, cause: error });
        }
        const permanent = SENDMAIL_BOUNCE.has(exit) || SENDMAIL_PERMANENT.has(exit);
        throw new TransportError(`${path} exited with code ${exit}`, { temporary: !permanent, bounce: SENDMAIL_BOUNCE.has(exit), cause: error });
      }
    },
    async close() {
      transporter.close();
    },
  };
}

/** A spawn error carries the system's code (ENOENT, EACCES). */
type NodejsError = Error & { code?: string };
