import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../address.js';
import { BriefingError } from '../errors.js';

/** How a connection is encrypted: from the first byte (smtps), STARTTLS or fail, STARTTLS when offered, never. */
export type TlsMode = 'implicit' | 'required' | 'opportunistic' | 'none';

/** BRIEFING_SMTP_URL, checked: where to connect, how to secure and log in, and pool limits. */
export interface SmtpSettings {
  host: string;
  port: number;
  tls: TlsMode;
  /** Verify the server certificate (`tls.rejectUnauthorized=false` turns it off, for test servers). */
  rejectUnauthorized: boolean;
  servername: string | undefined;
  auth: { user: string; pass: string; method: 'PLAIN' | 'LOGIN' | undefined } | undefined;
  /** Allow a password over an unencrypted connection to another machine (`insecure=true`). */
  allowPlaintextAuth: boolean;
  /** Name given in EHLO. */
  clientName: string;
  maxConnections: number | undefined;
  /** Messages per connection before it is replaced (nodemailer's maxMessages). */
  maxMessages: number;
  messagesPerSecond: number | undefined;
  connectionTimeoutMs: number | undefined;
  greetingTimeoutMs: number | undefined;
  socketTimeoutMs: number | undefined;
  /** `smtp://host:port`: the URL without user, password or options, safe to log. */
  description: string;
}

const BOOLEAN: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };
const KNOWN_OPTIONS = new Set([
  'pool', 'secure', 'requireTLS', 'ignoreTLS', 'insecure', 'tls.rejectUnauthorized', 'tls.servername', 'name',
  'maxConnections', 'maxMessages', 'rateLimit', 'rateDelta', 'connectionTimeout', 'greetingTimeout', 'socketTimeout', 'authMethod',
]);

function invalid(message: string): BriefingError {
  // Never quotes the URL, nor any part a misplaced password may have ended up in (scheme, host,
  // path, query): it may hold a password.
  return new BriefingError('config', 'invalid-smtp-url', `BRIEFING_SMTP_URL ${message}`);
}

/** How to write a user or password that holds a delimiter; said wherever one may have split the URL. */
const ENCODE_HINT = 'percent-encode a user or password that holds @ : / ? # or % (encodeURIComponent)';

function defaultClientName(): string {
  const name = hostname();
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(name) ? name : '[127.0.0.1]';
}

/**
 * Parses `smtp://user:pass@host:port?option=value…` or `smtps://…` (nodemailer's option names).
 * STARTTLS is required for any host that is not loopback unless `requireTLS=false` (use TLS when
 * offered) or `ignoreTLS=true`/`insecure=true` (never) says otherwise. Errors never quote the URL.
 */
export function parseSmtpUrl(text: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`is not a URL (expected smtp://user:pass@host:port or smtps://…; ${ENCODE_HINT})`);
  }
  if (url.protocol === 'sendmail:' || url.protocol === 'ses:') throw invalid(`${url.protocol} is sent by nodemailer: set BRIEFING_TRANSPORT=nodemailer`);
  // The scheme is not shown: without `//`, `user:pass@host` parses as the scheme `user:`.
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw invalid('must start with smtp:// or smtps://');
  // An @ after the host is the end of a user or password cut short by an unencoded ? # or /.
  if (`${url.pathname}${url.search}${url.hash}`.includes('@')) throw invalid(`has an @ after the host: ${ENCODE_HINT}`);
  if (url.hostname === '') throw invalid(`has no host (${ENCODE_HINT})`);
  if (url.pathname !== '' && url.pathname !== '/') throw invalid(`has a path; options go in the query (?maxConnections=8); ${ENCODE_HINT}`);
  if (url.hash !== '') throw invalid(`has a fragment (#); ${ENCODE_HINT}`);
  const options = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (!KNOWN_OPTIONS.has(key)) {
      // Only a name that looks like an option is shown: anything else may be a piece of a password.
      const shown = /^[A-Za-z][A-Za-z.]{0,39}$/.test(key) ? ` "${key}"` : '';
      throw invalid(`has an unknown option${shown} (known: ${[...KNOWN_OPTIONS].join(', ')})`);
    }
    options.set(key, value);
  }
  const flag = (key: string): boolean | undefined => {
    const value = options.get(key);
    if (value === undefined) return undefined;
    const parsed = BOOLEAN[value.toLowerCase()];
    if (parsed === undefined) throw invalid(`option ${key} must be true or false`);
    return parsed;
  };
  const count = (key: string, min: number): number | undefined => {
    const value = options.get(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw invalid(`option ${key} must be an integer of at least ${min}`);
    return parsed;
  };
  if (flag('pool') === false) throw invalid('option pool=false is not supported: Briefing always keeps a pool of connections');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackHost(host);
  const secure = url.protocol === 'smtps:' || flag('secure') === true;
  const insecure = flag('insecure') === true;
  const requireTls = flag('requireTLS');
  const tls: TlsMode = secure
    ? 'implicit'
    : flag('ignoreTLS') === true || insecure
      ? 'none'
      : requireTls === true
        ? 'required'
        : requireTls === false
          ? 'opportunistic'
          : loopback
            ? 'none'
            : 'required';
  const port = url.port === '' ? (secure ? 465 : 587) : Number(url.port);
  const method = options.get('authMethod')?.toUpperCase();
  if (method !== undefined && method !== 'PLAIN' && method !== 'LOGIN') throw invalid('option authMethod must be PLAIN or LOGIN');
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    throw invalid(`has a badly percent-encoded user or password (${ENCODE_HINT})`);
  }
  const name = options.get('name');
  if (name !== undefined && !/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/.test(name)) throw invalid('option name must be a host name or address literal');
  const rateLimit = count('rateLimit', 1);
  const rateDelta = count('rateDelta', 1) ?? 1000;
  const servername = options.get('tls.servername');
  return {
    host,
    port,
    tls,
    rejectUnauthorized: flag('tls.rejectUnauthorized') ?? true,
    servername: servername === undefined || servername === '' ? (isIP(host) === 0 ? host : undefined) : servername,
    auth: user === '' ? undefined : { user, pass, method: method as 'PLAIN' | 'LOGIN' | undefined },
    allowPlaintextAuth: insecure || loopback,
    clientName: name ?? defaultClientName(),
    maxConnections: count('maxConnections', 1),
    maxMessages: count('maxMessages', 1) ?? Number.POSITIVE_INFINITY,
    messagesPerSecond: rateLimit === undefined ? undefined : (rateLimit * 1000) / rateDelta,
    connectionTimeoutMs: count('connectionTimeout', 1),
    greetingTimeoutMs: count('greetingTimeout', 1),
    socketTimeoutMs: count('socketTimeout', 1),
    description: `${url.protocol}//${url.host}`,
  };
}
