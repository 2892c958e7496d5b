import { isLoopbackHost } from '../address.js';
import { BriefingError } from '../errors.js';

/** How an IMAP connection is encrypted: TLS from the first byte (imaps), STARTTLS or fail, never (loopback). */
export type ImapTls = 'implicit' | 'starttls' | 'none';

/** An IMAP URL, checked: where to connect, how to log in, which mailbox holds the returned mail. */
export interface ImapSettings {
  host: string;
  port: number;
  tls: ImapTls;
  user: string;
  pass: string;
  /** The folder read (`INBOX` when the URL has no path). */
  mailbox: string;
  /** `imap://host:port/MAILBOX`: no user, no password, safe to log. */
  description: string;
}

function invalid(message: string): BriefingError {
  // Never quotes the URL: a password cut short by an unencoded delimiter may sit in any part of it.
  return new BriefingError('returns', 'invalid-imap-url', `the IMAP URL ${message}`);
}

const ENCODE_HINT = 'percent-encode a user or password that holds @ : / ? # or % (encodeURIComponent)';

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(`has a badly percent-encoded ${what} (${ENCODE_HINT})`);
  }
}

/**
 * Parses `imap://user:pass@host:port/MAILBOX` or `imaps://…` (user, password and mailbox
 * percent-decoded). imaps is TLS from the first byte (port 993); imap (port 143) must upgrade with
 * STARTTLS unless the host is loopback, where nothing leaves the machine. Errors never quote the URL.
 */
export function parseImapUrl(text: string): ImapSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`is not a URL (expected imap://user:pass@host:port/MAILBOX or imaps://…; ${ENCODE_HINT})`);
  }
  if (url.protocol !== 'imap:' && url.protocol !== 'imaps:') throw invalid('must start with imap:// or imaps://');
  if (`${url.pathname}${url.search}${url.hash}`.includes('@')) throw invalid(`has an @ after the host: ${ENCODE_HINT}`);
  if (url.hostname === '') throw invalid(`has no host (${ENCODE_HINT})`);
  if (url.search !== '' || url.hash !== '') throw invalid(`has a query or fragment (? or #); ${ENCODE_HINT}`);
  if (url.username === '' || url.password === '') throw invalid('needs a user and a password (imap://user:pass@host/MAILBOX)');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const secure = url.protocol === 'imaps:';
  const port = url.port === '' ? (secure ? 993 : 143) : Number(url.port);
  const mailbox = decode(url.pathname.replace(/^\//, ''), 'mailbox') || 'INBOX';
  if (/[\p{Cc}]/u.test(mailbox) || mailbox.length > 200) throw invalid('has a mailbox name with control characters or over 200 characters');
  const tls: ImapTls = secure ? 'implicit' : isLoopbackHost(host) ? 'none' : 'starttls';
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    tls,
    user: decode(url.username, 'user'),
    pass: decode(url.password, 'password'),
    mailbox,
    description: `${secure ? 'imaps' : 'imap'}://${shownHost}:${port}/${mailbox}`,
  };
}
