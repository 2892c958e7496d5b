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
