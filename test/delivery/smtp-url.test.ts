import { describe, expect, it } from 'vitest';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';

describe('parseSmtpUrl', () => {
  it.each([
    ['smtp://mail.example.org', { host: 'mail.example.org', port: 587, tls: 'required', description: 'smtp://mail.example.org' }],
    ['smtp://mail.example.org:2525?requireTLS=false', { port: 2525, tls: 'opportunistic' }],
    ['smtp://mail.example.org?ignoreTLS=true', { tls: 'none', allowPlaintextAuth: false }],
    ['smtp://mail.example.org?insecure=true', { tls: 'none', allowPlaintextAuth: true }],
    ['smtps://mail.example.org', { port: 465, tls: 'implicit', description: 'smtps://mail.example.org' }],
    ['smtp://mail.example.org?secure=true', { tls: 'implicit', port: 465 }],
    ['smtp://127.0.0.1:2525', { tls: 'none', allowPlaintextAuth: true, servername: undefined }],
    ['smtp://localhost:25?requireTLS=true', { tls: 'required' }],
    ['smtp://[::1]:25', { host: '::1', tls: 'none' }],
    ['smtp://mail.example.org?tls.rejectUnauthorized=false&tls.servername=mx.example.org', { rejectUnauthorized: false, servername: 'mx.example.org' }],
    ['smtp://mail.example.org?pool=true&maxConnections=4&maxMessages=100', { maxConnections: 4, maxMessages: 100 }],
    ['smtp://mail.example.org?rateLimit=10&rateDelta=2000', { messagesPerSecond: 5 }],
    ['smtp://mail.example.org?name=sender.example.org&socketTimeout=5000', { clientName: 'sender.example.org', socketTimeoutMs: 5000 }],
  ])('reads %s', (url, expected) => {
    expect(parseSmtpUrl(url)).toMatchObject(expected);
  });

  it('takes user and password from the URL, percent-decoded, and keeps them out of the description', () => {
    const settings = parseSmtpUrl('smtp://briefing%40example.org:p%40ss%3Aw0rd@mail.example.org:587?authMethod=login');
    expect(settings.auth).toEqual({ user: 'briefing@example.org', pass: 'p@ss:w0rd', method: 'LOGIN' });
    expect(settings.description).toBe('smtp://mail.example.org:587');
  });

  it.each([
    ['not a URL', 'not a url s3cr3t-pass', /is not a URL/],
    ['another scheme', 'http://user:s3cr3t-pass@mail.example.org', /must start with smtp:\/\/ or smtps:\/\//],
    ['sendmail: without BRIEFING_TRANSPORT=nodemailer', 'sendmail:/usr/sbin/sendmail', /sendmail: is sent by nodemailer: set BRIEFING_TRANSPORT=nodemailer/],
    ['an unknown option', 'smtp://user:s3cr3t-pass@mail.example.org?maxConnection=3', /unknown option "maxConnection"/],
    ['a bad flag', 'smtp://user:s3cr3t-pass@mail.example.org?requireTLS=maybe', /requireTLS must be true or false/],
    ['a bad number', 'smtp://user:s3cr3t-pass@mail.example.org?maxConnections=0', /maxConnections must be an integer of at least 1/],
    ['pool=false', 'smtp://user:s3cr3t-pass@mail.example.org?pool=false', /pool=false is not supported/],
    ['a path', 'smtp://user:s3cr3t-pass@mail.example.org/inbox', /has a path/],
  ])('refuses %s with a config error that does not quote the password', (_label, url, message) => {
    let error: unknown;
    try {
      parseSmtpUrl(url);
    } catch (caught) {
      error = caught;
    }
    expect(String(error)).toMatch(message);
    expect(String(error)).toMatch(/^BriefingError: config: BRIEFING_SMTP_URL /);
    expect(String(error)).not.toContain('s3cr3t-pass');
  });
});

/** Every piece of `secret` of `length` characters or more. */
function pieces(secret: string, length = 3): string[] {
  const found: string[] = [];
  for (let from = 0; from + length <= secret.length; from += 1) found.push(secret.slice(from, from + length));
  return found;
}

describe('parseSmtpUrl with a user or password that is not percent-encoded', () => {
  it.each([
    // [what, URL, the userinfo as it was meant: user, password]
    ['a ? that cuts the password short (a port-like start)', 'smtp://qwu8x:4821?Zq7xK9w@mail.example.org:587', 'qwu8x', '4821?Zq7xK9w'],
    ['a ? that makes the rest an unknown option', 'smtp://qwu8x:4821?Zq7xK9w=1@mail.example.org', 'qwu8x', '4821?Zq7xK9w=1'],
    ['a ? inside a password that is not a port', 'smtp://qwu8x:Zq7?xK9w@mail.example.org', 'qwu8x', 'Zq7?xK9w'],
    ['a # that makes the rest a fragment', 'smtp://qwu8x:4821#Zq7xK9w@mail.example.org', 'qwu8x', '4821#Zq7xK9w'],
    ['a / that makes the rest a path', 'smtp://qwu8x:4821/Zq7xK9w@mail.example.org', 'qwu8x', '4821/Zq7xK9w'],
    ['a bare %', 'smtp://qwu8x:Zq7%xK9w@mail.example.org', 'qwu8x', 'Zq7%xK9w'],
    ['no // so the user reads as the scheme', 'qwu8x:Zq7xK9w@mail.example.org', 'qwu8x', 'Zq7xK9w'],
    ['an @ in the user and a ? in the password', 'smtp://qwu8x@ex.org:4821?Zq7xK9w@mail.example.org', 'qwu8x@ex.org', '4821?Zq7xK9w'],
  ])('refuses %s without echoing any piece of the user or password (password leak)', (_label, url, user, pass) => {
    let error: unknown;
    try {
      parseSmtpUrl(url);
    } catch (caught) {
      error = caught;
    }
    const message = String(error);
    expect(message).toMatch(/^BriefingError: config: BRIEFING_SMTP_URL /);
    for (const piece of [...pieces(pass), ...pieces(user)]) expect(message, `"${piece}" of the userinfo`).not.toContain(piece);
  });

  it('says how to write a password with delimiters, and reads it when percent-encoded', () => {
    expect(() => parseSmtpUrl('smtp://qwu8x:4821?Zq7xK9w@mail.example.org')).toThrow(/percent-encode a user or password .*encodeURIComponent/);
    const pass = 'p?s#s/w@r:d%';
    const settings = parseSmtpUrl(`smtp://${encodeURIComponent('me@example.org')}:${encodeURIComponent(pass)}@mail.example.org:587`);
    expect(settings.auth).toMatchObject({ user: 'me@example.org', pass });
    expect(settings.host).toBe('mail.example.org');
  });
});
