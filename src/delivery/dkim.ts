import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { BriefingError } from '../errors.js';

/** BRIEFING_DKIM_DOMAIN, _SELECTOR and _KEY (PEM; `\n` escapes allowed for one-line environments). */
export interface DkimSettings {
  domain: string;
  selector: string;
  privateKey: string;
}

/** Signs finished messages (RFC 6376, rsa-sha256, relaxed/relaxed). */
export interface DkimSigner {
  /**
   * The `DKIM-Signature` field (with CRLF) over `headers` (complete folded fields, each ending in
   * CRLF) and the body bytes. Each signed name is listed once more in h=, so a header of that
   * name added later breaks the signature.
   */
  sign(headers: readonly string[], body: Buffer, now: Date): string;
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  const name = field.slice(0, colon).trim().toLowerCase();
  const value = field
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}`;
}

/** RFC 6376 3.4.4: runs of WSP become one space, WSP at line ends and empty lines at the end go. */
function relaxedBodyHash(body: Buffer): string {
  const lines = body.toString('latin1').split('\r\n');
  for (let index = 0; index < lines.length; index += 1) {
    lines[index] = (lines[index] ?? '').replace(/[ \t]+/g, ' ').replace(/ $/, '');
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const canonical = lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`;
  return createHash('sha256').update(canonical, 'latin1').digest('base64');
}

/** Splits a long tag value into lines of at most `width`, at `separator` or anywhere. */
function fold(value: string, width: number, separator?: string): string {
  const parts = separator === undefined ? (value.match(new RegExp(`.{1,${width}}`, 'g')) ?? []) : value.split(separator);
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    const next = line === '' ? part : `${line}${separator ?? ''}${part}`;
    if (next.length > width && line !== '') {
      lines.push(`${line}${separator ?? ''}`);
      line = part;
    } else {
      line = next;
    }
  }
  lines.push(line);
  return lines.join('\r\n\t');
}

function readKey(privateKey: string): KeyObject {
  const pem = privateKey.includes('\\n') && !privateKey.includes('\n') ? privateKey.replace(/\\n/g, '\n') : privateKey;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    // The cause is dropped on purpose: it could quote the key.
    throw new BriefingError('config', 'invalid-dkim-key', `BRIEFING_DKIM_KEY is not a readable private key (${(error as NodeJS.ErrnoException).code ?? 'unknown format'})`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 1024) {
    throw new BriefingError('config', 'invalid-dkim-key', 'BRIEFING_DKIM_KEY must be an RSA private key of at least 1024 bits');
  }
  return key;
}

/** Checks the settings once and returns a signer; a bad key is a config error that never quotes the key. */
export function createDkimSigner(settings: DkimSettings): DkimSigner {
  if (!NAME.test(settings.domain)) throw new BriefingError('config', 'invalid-dkim', 'BRIEFING_DKIM_DOMAIN is not a domain name');
  if (!NAME.test(settings.selector)) throw new BriefingError('config', 'invalid-dkim', 'BRIEFING_DKIM_SELECTOR is not a valid selector');
  const key = readKey(settings.privateKey);
  return {
    sign(headers, body, now) {
      const canonical = headers.map(relaxedHeader);
      const names = canonical.map((field) => field.slice(0, field.indexOf(':')));
      const signedNames = [...names, ...new Set(names)].join(':');
      const tags = [
        `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${settings.domain}; s=${settings.selector}; t=${Math.floor(now.getTime() / 1000)};`,
        `h=${fold(signedNames, 70, ':')};`,
        `bh=${relaxedBodyHash(body)};`,
        'b=',
      ];
      const unsigned = `DKIM-Signature: ${tags.join('\r\n\t')}`;
      const data = `${canonical.join('\r\n')}\r\n${relaxedHeader(unsigned)}`;
      const signature = sign('sha256', Buffer.from(data, 'utf8'), key).toString('base64');
      return `${unsigned}${fold(signature, 72)}\r\n`;
    },
  };
}
