import { describe, expect, it } from 'vitest';
import { BriefingError } from '../../src/errors.js';
import { parseImapUrl } from '../../src/returns/imap-url.js';

describe('parseImapUrl', () => {
  it.each([
    ['imap://u:p@mail.example.org', { host: 'mail.example.org', port: 143, tls: 'starttls', mailbox: 'INBOX', description: 'imap://mail.example.org:143/INBOX' }],
    ['imaps://u:p@mail.example.org/Returns', { port: 993, tls: 'implicit', mailbox: 'Returns', description: 'imaps://mail.example.org:993/Returns' }],
    ['imap://u:p@mail.example.org:1143/', { port: 1143, tls: 'starttls', mailbox: 'INBOX' }],
    ['imap://u:p@127.0.0.1:1143/INBOX', { tls: 'none' }],
    ['imap://u:p@localhost/INBOX', { tls: 'none' }],
    ['imap://u:p@[::1]:1143/INBOX', { host: '::1', tls: 'none', description: 'imap://[::1]:1143/INBOX' }],
    ['imaps://u:p@127.0.0.1/INBOX', { tls: 'implicit' }],
    ['imap://u:p@mail.example.org/Bounces%2FBriefing%20list', { mailbox: 'Bounces/Briefing list' }],
  ])('reads %s', (url, expected) => {
    expect(parseImapUrl(url)).toMatchObject(expected);
  });

  it('percent-decodes user and password and keeps them out of the description', () => {
    const settings = parseImapUrl('imap://returns%40example.org:p%3Fss%23w%40rd%2F%25x@mail.example.org/INBOX');
    expect(settings).toMatchObject({ user: 'returns@example.org', pass: 'p?ss#w@rd/%x' });
    expect(settings.description).toBe('imap://mail.example.org:143/INBOX');
  });

  it.each([
    ['not a URL', 'not a url r3turns s3cr3t-pa55', /is not a URL/],
    ['another scheme', 'smtp://r3turns:s3cr3t-pa55@mail.example.org', /must start with imap:\/\/ or imaps:\/\//],
    ['a password cut short by an unencoded /', 'imap://r3turns:s3cr3t/pa55@mail.example.org/INBOX', /is not a URL|has an @ after the host/],
    ['a password cut short by an unencoded #', 'imap://r3turns:s3cr3t#pa55@mail.example.org/INBOX', /has an @ after the host|is not a URL/],
    ['a password cut short by an unencoded ?', 'imap://r3turns:s3cr3t?pa55@mail.example.org/INBOX', /has an @ after the host|is not a URL/],
    ['a query', 'imap://r3turns:s3cr3t-pa55@mail.example.org/INBOX?x=1', /has a query or fragment/],
    ['no password', 'imap://r3turns@mail.example.org/INBOX', /needs a user and a password/],
    ['a bad percent-encoding', 'imap://r3turns:s3cr3t-pa55%zz@mail.example.org/INBOX', /is not a URL|badly percent-encoded password/],
    ['a mailbox with a control character', 'imap://r3turns:s3cr3t-pa55@mail.example.org/IN%0ABOX', /control characters/],
  ])('refuses %s in one line that quotes no part of the user or password', (_label, url, message) => {
    expect(() => parseImapUrl(url)).toThrow(BriefingError);
    const text = ((): string => {
      try {
        return JSON.stringify(parseImapUrl(url));
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(text).toMatch(new RegExp(`^returns: the IMAP URL .*(?:${message.source})`));
    expect(text).not.toContain('\n');
    for (const piece of ['s3cr3t', 'pa55', 'r3turns']) expect(text).not.toContain(piece);
  });
});
