import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readReturnedMail, type ReturnedMail } from '../../src/returns/read-returned-mail.js';
import { readReturnAddress, verifyReturnAddress } from '../../src/returns/return-address.js';

/** The fixtures' addresses were signed with this secret and link key, for subscriber 42 at bounces.briefing.example. */
const FIXTURE_SECRET = 'returns-fixture-secret-0123456789';
const FIXTURE_LINK_KEY = 'fixture-link-key-0123456789';
const BOUNCE = 'bounce+42-d20250724-45jexvwqhexfbqqr@bounces.briefing.example';
const BOUNCE_MINUTE_SLOT = 'bounce+42-m202507240900-awqajay3k7zamrc6@bounces.briefing.example';
const UNSUBSCRIBE = 'unsubscribe+42-rdvwffq6fiaivawu@bounces.briefing.example';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/returns');
const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));
const sha256Key = (raw: Buffer): string => `sha256:${createHash('sha256').update(raw).digest('hex')}`;

/** A DSN as a remote MTA writes it, with the per-recipient groups given. */
function dsn(recipientGroups: string[], options: { to?: string; returnPath?: string; extraHeaders?: string } = {}): Buffer {
  const to = options.to ?? BOUNCE;
  return Buffer.from(
    [
      `Delivered-To: ${to}`,
      'From: MAILER-DAEMON@mx.example.net',
      `To: ${to}`,
      'Subject: Undelivered Mail',
      'Message-ID: <generated-dsn@mx.example.net>',
      ...(options.extraHeaders === undefined ? [] : [options.extraHeaders]),
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'Returned.',
      '--b1',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.net',
      '',
      recipientGroups.join('\r\n\r\n'),
      '',
      '--b1',
      'Content-Type: text/rfc822-headers',
      '',
      `Return-Path: <${options.returnPath ?? to}>`,
      'Subject: The Briefing',
      '',
      '--b1--',
      '',
    ].join('\r\n'),
  );
}
const recipient = (action: string, status: string, diagnostic = `smtp; ${status} something`): string =>
  `Final-Recipient: rfc822; reader@example.net\r\nAction: ${action}\r\nStatus: ${status}\r\nDiagnostic-Code: ${diagnostic}`;

function expectVerified(mail: ReturnedMail): void {
  const first = readReturnAddress(mail.returnAddresses[0]);
  expect(first).toBeDefined();
  if (first !== undefined) expect(verifyReturnAddress([FIXTURE_SECRET], first, FIXTURE_LINK_KEY)).toBe(true);
}

describe('reading returned mail: the fixtures', () => {
  it('a DSN of a 5.1.1 failure is a hard bounce, its bounce+ address first, the Diagnostic-Code on one line', async () => {
    const mail = await readReturnedMail(fixture('dsn-hard-5.1.1.eml'));
    expect(mail).toEqual({
      kind: 'hard-bounce',
      key: '<dsn-hard-20250724070210.1234@mx.example.net>',
      returnAddresses: [BOUNCE],
      status: '5.1.1',
      detail: 'smtp; 550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown in virtual mailbox table',
      why: '',
    });
    expectVerified(mail);
  });

  it('a DSN of a delayed delivery (4.2.2) is a soft bounce naming the minute-slot edition', async () => {
    const mail = await readReturnedMail(fixture('dsn-soft-4.2.2-delayed.eml'));
    expect(mail).toMatchObject({ kind: 'soft-bounce', returnAddresses: [BOUNCE_MINUTE_SLOT], status: '4.2.2', detail: 'smtp; 452 4.2.2 Mailbox full' });
    expect(readReturnAddress(mail.returnAddresses[0])?.editionId).toBe('2025-07-24T09:00');
    expectVerified(mail);
  });

  it('an ARF abuse report is a complaint named by the original return path, then its unsubscribe mailbox (never the redacted To)', async () => {
    const mail = await readReturnedMail(fixture('arf-abuse-complaint.eml'));
    expect(mail).toEqual({
      kind: 'complaint',
      key: '<arf-20250724150951.ab12@mailbox-provider.example>',
      returnAddresses: [BOUNCE, UNSUBSCRIBE],
      status: null,
      detail: 'Feedback-Type: abuse',
      why: '',
    });
    expectVerified(mail);
  });

  it('a mail to an unsubscribe+ address is an unsubscribe, whatever it says', async () => {
    const mail = await readReturnedMail(fixture('mailto-unsubscribe.eml'));
    expect(mail).toMatchObject({ kind: 'unsubscribe', returnAddresses: [UNSUBSCRIBE], status: null, detail: 'Subject: unsubscribe', why: '' });
    expectVerified(mail);
  });

  it('an out-of-office reply to the bounce+ address is unknown', async () => {
    const mail = await readReturnedMail(fixture('out-of-office.eml'));
    expect(mail).toMatchObject({ kind: 'unknown', returnAddresses: [], why: 'neither a report nor addressed to an unsubscribe+ address' });
  });

  it('a forged unsubscribe (From a subscriber, To the plain address) is unknown: From is never trusted', async () => {
    const mail = await readReturnedMail(fixture('forged-unsubscribe.eml'));
    expect(mail).toMatchObject({ kind: 'unknown', returnAddresses: [] });
  });

  it('gives the same key to the same message read twice, and the hash of the bytes when there is no Message-ID', async () => {
    const raw = fixture('mailto-unsubscribe.eml');
    expect((await readReturnedMail(raw)).key).toBe((await readReturnedMail(Buffer.from(raw))).key);
    const withoutId = Buffer.from(raw.toString('utf8').replace(/^Message-ID:.*\n/m, ''));
    const mail = await readReturnedMail(withoutId);
    expect(mail.key).toBe(sha256Key(withoutId));
    expect(mail.kind).toBe('unsubscribe');
  });
});

describe('reading returned mail: DSN rules', () => {
  it.each([
    ['failed 5.x.x', [recipient('failed', '5.2.1')], 'hard-bounce', '5.2.1'],
    ['failed 4.x.x (a queue lifetime expired)', [recipient('failed', '4.4.1')], 'soft-bounce', '4.4.1'],
    ['delayed 4.x.x', [recipient('delayed', '4.4.7')], 'soft-bounce', '4.4.7'],
    ['several recipients: the worst wins', [recipient('delayed', '4.2.2'), recipient('failed', '5.1.1'), recipient('delivered', '2.0.0')], 'hard-bounce', '5.1.1'],
    ['a status with a comment', [recipient('failed', '5.1.1 (bad destination mailbox address)')], 'hard-bounce', '5.1.1'],
    ['upper-case action', [recipient('FAILED', '5.7.1')], 'hard-bounce', '5.7.1'],
  ])('%s', async (_label, groups, kind, status) => {
    expect(await readReturnedMail(dsn(groups))).toMatchObject({ kind, status, returnAddresses: [BOUNCE] });
  });

  it.each([
    ['a success report (delivered, relayed)', [recipient('delivered', '2.0.0'), recipient('relayed', '2.0.0')], /no failed or delayed recipient/],
    ['failed with a status that is not one', [recipient('failed', 'five')], /no failed or delayed recipient/],
    ['no recipient fields at all', ['X-Nothing: here'], /no failed or delayed recipient/],
  ])('is unknown for %s', async (_label, groups, why) => {
    const mail = await readReturnedMail(dsn(groups));
    expect(mail.kind).toBe('unknown');
    expect(mail.why).toMatch(why);
  });

  it('is unknown for a DSN that names no bounce+ address, and never takes an unsubscribe+ address for one', async () => {
    const plain = await readReturnedMail(dsn([recipient('failed', '5.1.1')], { to: 'news@briefing.example', returnPath: 'news@briefing.example' }));
    expect(plain).toMatchObject({ kind: 'unknown', why: 'a delivery-status report naming no bounce+ address' });
    const toUnsubscribe = await readReturnedMail(dsn([recipient('failed', '5.1.1')], { to: UNSUBSCRIBE, returnPath: UNSUBSCRIBE }));
    expect(toUnsubscribe.kind).toBe('unknown');
  });

  it('puts the envelope recipient before the returned original return path', async () => {
    const mail = await readReturnedMail(dsn([recipient('failed', '5.1.1')], { returnPath: BOUNCE_MINUTE_SLOT }));
    expect(mail.returnAddresses).toEqual([BOUNCE, BOUNCE_MINUTE_SLOT]);
  });
});

describe('reading returned mail: ARF rules', () => {
  const arf = fixture('arf-abuse-complaint.eml').toString('utf8');

  it.each(['fraud', 'virus', 'ABUSE'])('a %s report is a complaint', async (type) => {
    expect((await readReturnedMail(Buffer.from(arf.replace('Feedback-Type: abuse', `Feedback-Type: ${type}`)))).kind).toBe('complaint');
  });

  it.each(['not-spam', 'auth-failure', 'other'])('a %s report is unknown', async (type) => {
    const mail = await readReturnedMail(Buffer.from(arf.replace('Feedback-Type: abuse', `Feedback-Type: ${type}`)));
    expect(mail).toMatchObject({ kind: 'unknown', returnAddresses: [] });
    expect(mail.why).toContain(`Feedback-Type: ${type}`);
  });

  it('finds the complaint through Original-Mail-From when the original carries only headers without ours', async () => {
    const stripped = arf.replace(/^Return-Path: <bounce\+.*\n/m, '').replace(/^List-Unsubscribe: .*\n/m, '');
    expect(await readReturnedMail(Buffer.from(stripped))).toMatchObject({ kind: 'complaint', returnAddresses: [BOUNCE] });
  });
});

describe('reading returned mail: attacks', () => {
  const unknownWithin = async (raw: Buffer, limits?: { maxBytes: number }): Promise<ReturnedMail> => {
    const mail = await readReturnedMail(raw, limits);
    expect(mail.kind).toBe('unknown');
    expect(mail.returnAddresses).toEqual([]);
    expect(mail.why).not.toBe('');
    expect(mail.why).not.toMatch(/[\u0000-\u001f]/);
    return mail;
  };

  it('refuses to parse a message over the size bound (checked before parsing), keyed by its hash', async () => {
    const raw = fixture('mailto-unsubscribe.eml');
    const mail = await unknownWithin(raw, { maxBytes: raw.length - 1 });
    expect(mail.why).toMatch(/^larger than \d+ bytes/);
    expect(mail.key).toBe(sha256Key(raw));
    expect((await readReturnedMail(raw, { maxBytes: raw.length })).kind).toBe('unsubscribe');
  });

  it('a truncated multipart report (no closing boundary, no report part) is unknown', async () => {
    const whole = fixture('dsn-hard-5.1.1.eml').toString('utf8');
    await unknownWithin(Buffer.from(whole.slice(0, whole.indexOf('Content-Type: message/delivery-status') - 30)));
    // Cut inside the report part: what is there is read, and what is missing does not invent a bounce.
    const cut = await readReturnedMail(Buffer.from(whole.slice(0, whole.indexOf('Action: failed'))));
    expect(cut.kind).toBe('unknown');
  });

  it('a report nested in a report is not read as the outer one (only top-level report parts count)', async () => {
    const inner = fixture('dsn-hard-5.1.1.eml').toString('utf8');
    const outer = [
      'To: news@briefing.example',
      'Message-ID: <outer@relay.example>',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: text/plain',
      '',
      'Forwarded.',
      '--outer',
      'Content-Type: message/rfc822',
      '',
      inner,
      '--outer--',
      '',
    ].join('\n');
    await unknownWithin(Buffer.from(outer));
    // A DSN whose returned original is itself a DSN to someone else's bounce+ address: the original's report is not ours to read.
    const wrapped = dsn([recipient('delivered', '2.0.0')]).toString('utf8').replace('Content-Type: text/rfc822-headers\r\n\r\n', `Content-Type: message/rfc822\r\n\r\n${inner.replace(/\n/g, '\r\n')}\r\n`);
    await unknownWithin(Buffer.from(wrapped));
  });

  it('a DSN with 10,000 recipient groups is read in bounded work (the first groups decide)', async () => {
    const groups = Array.from({ length: 10_000 }, () => recipient('delayed', '4.2.2'));
    groups[5] = recipient('failed', '5.1.1');
    groups[9_999] = recipient('failed', '5.9.9');
    const mail = await readReturnedMail(dsn(groups));
    expect(mail).toMatchObject({ kind: 'hard-bounce', status: '5.1.1' });
  });

  it('a header bomb (a million-line header) is unknown, not a crash', async () => {
    const bomb = Buffer.from(`To: ${UNSUBSCRIBE}\r\n${'X-Bomb: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(100_000)}\r\nbody\r\n`);
    const mail = await unknownWithin(bomb);
    expect(mail.why).toMatch(/^malformed MIME/);
    expect(mail.key).toBe(sha256Key(bomb));
  });

  it('a part bomb (thousands of MIME parts) is unknown', async () => {
    const parts = Array.from({ length: 5_000 }, () => '--p\r\nContent-Type: text/plain\r\n\r\nx\r\n').join('');
    await unknownWithin(Buffer.from(`To: ${UNSUBSCRIBE}\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n${parts}--p--\r\n`));
  });

  it('NUL bytes, control characters and bidi overrides never reach the detail or the key', async () => {
    const raw = Buffer.from(
      dsn([recipient('failed', '5.1.1', 'smtp; 550 \u0000evil\r\n\tline\u202e2 \u001b[31mred')], { extraHeaders: 'X-Nul: a\u0000b' })
        .toString('utf8')
        .replace('<generated-dsn@mx.example.net>', '<id\u0000with\u0007controls@x>'),
    );
    const mail = await readReturnedMail(raw);
    expect(mail.kind).toBe('hard-bounce');
    expect(mail.detail).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(mail.detail.length).toBeLessThanOrEqual(200);
    expect(mail.key).not.toMatch(/[\u0000-\u001f]/);
  });

  it('a very long Diagnostic-Code is cut to one bounded line', async () => {
    const mail = await readReturnedMail(dsn([recipient('failed', '5.1.1', `smtp; 550 ${'x '.repeat(10_000)}`)]));
    expect(mail.detail.length).toBeLessThanOrEqual(200);
    expect(mail.detail.endsWith('…')).toBe(true);
  });

  it('a report sent to an unsubscribe+ address is not an unsubscribe, and a report of another type is unknown', async () => {
    const mdn = Buffer.from(`To: ${UNSUBSCRIBE}\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nread\r\n--m--\r\n`);
    const mail = await unknownWithin(mdn);
    expect(mail.why).toMatch(/disposition-notification/);
  });

  it('an automatic reply to the unsubscribe+ address does not unsubscribe', async () => {
    const reply = Buffer.from(`To: ${UNSUBSCRIBE}\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\naway\r\n`);
    expect((await unknownWithin(reply)).why).toMatch(/automatic reply/);
  });

  it('a forged unsubscribe+ address (a tampered MAC) is still read, for the caller to refuse on verification', async () => {
    const forged = UNSUBSCRIBE.replace('rdvwffq6fiaivawu', 'rdvwffq6fiaivawa');
    const mail = await readReturnedMail(Buffer.from(`To: ${forged}\r\nSubject: unsubscribe\r\n\r\n`));
    expect(mail.kind).toBe('unsubscribe');
    const parsed = readReturnAddress(mail.returnAddresses[0]);
    expect(parsed !== undefined && verifyReturnAddress([FIXTURE_SECRET], parsed, FIXTURE_LINK_KEY)).toBe(false);
  });

  it.each([
    ['empty input', Buffer.alloc(0)],
    ['binary noise', Buffer.from(Array.from({ length: 4096 }, (_v, i) => (i * 7919) % 256))],
    ['a multipart without a boundary', Buffer.from('Content-Type: multipart/report; report-type=delivery-status\r\n\r\n--\r\n')],
    ['a report-type parameter with no value', Buffer.from('Content-Type: multipart/report; report-type=\r\n\r\nx')],
    ['only NUL bytes', Buffer.alloc(10_000)],
    ['one header line of 4.9 MB', Buffer.from(`To: ${UNSUBSCRIBE}\r\nSubject: ${'a'.repeat(4_900_000)}\r\n\r\nx`)],
    ['multiparts nested 300 deep', Buffer.from(Array.from({ length: 300 }, (_v, i) => `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n`).join(''))],
    ['a base64 delivery-status part of garbage', dsn([]).toString('utf8').replace('Content-Type: message/delivery-status\r\n', 'Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n')],
  ])('never throws on %s', async (_label, raw) => {
    await unknownWithin(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
  });

  it('never throws on mangled fixtures (every fixture cut at many points and with bytes flipped)', async () => {
    const names = ['dsn-hard-5.1.1.eml', 'dsn-soft-4.2.2-delayed.eml', 'arf-abuse-complaint.eml', 'mailto-unsubscribe.eml'];
    for (const name of names) {
      const raw = fixture(name);
      for (let cut = 0; cut < raw.length; cut += 97) {
        const mangled = Buffer.from(raw.subarray(0, cut));
        if (mangled.length > 10) mangled[mangled.length >> 1] = 0;
        const mail = await readReturnedMail(mangled);
        expect(['hard-bounce', 'soft-bounce', 'complaint', 'unsubscribe', 'unknown']).toContain(mail.kind);
      }
    }
  });
});
