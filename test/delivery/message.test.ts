import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDkimSigner } from '../../src/delivery/dkim.js';
import { personaliseMessage, prepareMessage, type MessageRecipient } from '../../src/delivery/message.js';
import { subscriberLinks, verifyToken } from '../../src/delivery/tokens.js';
import { personaliseBriefing, tokenValue } from '../../src/email/personalise.js';
import { BriefingError } from '../../src/errors.js';
import { header, parseMail } from '../support/parse-mail.js';
import { MESSAGE_OPTIONS, SECRET, SITE_URL, sampleBriefing } from './fixtures.js';

const DATE = new Date('2025-07-23T18:00:00Z');
const LINK_KEY = 'message-test-link-key-01';

function recipient(subscriberId: number, name: string | null, address = `reader${subscriberId}@example.com`): MessageRecipient {
  return { subscriberId, address, name, ...subscriberLinks(SITE_URL, SECRET, { id: subscriberId, linkKey: LINK_KEY }) };
}

describe('personaliseMessage', () => {
  const template = prepareMessage(sampleBriefing(), MESSAGE_OPTIONS);

  it('gives a multipart/alternative message that an independent parser reads back without defects', () => {
    const message = personaliseMessage(template, recipient(42, 'Zoë "Z" <script>O\'Neil</script>'), DATE);
    const [mail] = parseMail([message.raw]);
    expect(mail).toBeDefined();
    if (!mail) return;
    expect(mail.defects).toEqual([]);
    expect(mail.bareLineFeeds).toBe(0);
    expect(mail.maxLineLength).toBeLessThanOrEqual(998);
    expect(mail.type).toBe('multipart/alternative');
    expect(mail.addresses.from).toEqual([{ name: 'Briefing desk', address: 'briefing@briefing.example.org' }]);
    expect(mail.addresses.to).toEqual([{ name: 'Zoë "Z" <script>O\'Neil</script>', address: 'reader42@example.com' }]);
    expect(header(mail, 'subject')).toBe('Briefing, 23 July 2025: Peace talks – Protests');
    expect(header(mail, 'date')).toBe('Wed, 23 Jul 2025 21:00:00 +0300');
    expect(header(mail, 'message-id')).toBe(message.messageId);
    expect(message.messageId).toMatch(/^<2025-07-23\.42\.[0-9a-f]{16}@daily\.briefing\.example\.org>$/);
    expect(header(mail, 'list-id')).toBe('Briefing <daily.briefing.example.org>');
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header(mail, 'mime-version')).toBe('1.0');
    const unsubscribe = header(mail, 'list-unsubscribe') ?? '';
    const match = /^<(https:\/\/briefing\.example\.org\/unsubscribe\?token=([^>]+))>, <mailto:unsubscribe@briefing\.example\.org\?subject=unsubscribe>$/.exec(unsubscribe);
    expect(match).not.toBeNull();
    expect(verifyToken([SECRET], 'unsubscribe', match?.[2], LINK_KEY, DATE)).toEqual({ ok: true, subscriberId: 42, expiresAt: null });
    expect(message.envelope).toEqual({ from: 'briefing@briefing.example.org', to: 'reader42@example.com' });

    const [text, html] = mail.parts;
    expect(text?.type).toBe('text/plain');
    expect(html?.type).toBe('text/html');
    expect(text?.encoding).toBe('quoted-printable');
    // The text part is the briefing's text with this recipient's values, byte for byte once decoded.
    const expectedText = sampleBriefing()
      .text.replaceAll('{{name:7f3a}}', 'Zoë "Z" <script>O\'Neil</script>')
      .replaceAll('{{unsubscribe:7f3a}}', match?.[1] ?? '');
    expect(text?.content.replace(/\r\n/g, '\n')).toBe(expectedText);
    // In HTML the values are escaped: the hostile name stays text.
    expect(html?.content).toContain('Hello Zoë &quot;Z&quot; &lt;script&gt;O&#39;Neil&lt;/script&gt; (reader42@example.com),');
    expect(html?.content).not.toContain('<script>');
    expect(html?.content).toContain(`<a href="${match?.[1]}">Unsubscribe</a>`);
  });

  it('fills its tokens with the one substituter: the body is the web version\'s personalisation, and a control character in a name becomes a space', () => {
    const reader = recipient(5, 'Ann & <b>Lee</b>');
    const [mail] = parseMail([personaliseMessage(template, reader, DATE).raw]);
    const web = personaliseBriefing(sampleBriefing(), reader);
    expect(mail?.parts[0]?.content.replace(/\r\n/g, '\n')).toBe(web.text);
    expect(mail?.parts[1]?.content.replace(/\r\n/g, '\n')).toBe(web.html);
    // What a name with a control character becomes in a body, text and HTML alike: spaces, never a line break.
    expect(tokenValue({ ...reader, name: 'Ann\u0007Lee\r\nBcc: x' }, 'name', false)).toBe('Ann Lee Bcc: x');
    expect(tokenValue({ ...reader, name: 'Ann\u2028<Lee>' }, 'name', true)).toBe('Ann &lt;Lee&gt;');
    // The message's To header carries the name too, and refuses it there rather than change it.
    expect(() => personaliseMessage(template, { ...reader, name: 'Ann\nLee' }, DATE)).toThrow(/the recipient name contains a line break or control character/);
  });

  it('gives a message its own return path and unsubscribe mailbox when returned mail is read, and refuses a header-breaking one', () => {
    const returns = { envelopeFrom: 'bounce+7-abc@bounces.example.org', unsubscribeMailto: 'unsubscribe+7-def@bounces.example.org' };
    const message = personaliseMessage(template, { ...recipient(7, null), returns }, DATE);
    expect(message.envelope).toEqual({ from: 'bounce+7-abc@bounces.example.org', to: 'reader7@example.com' });
    const [mail] = parseMail([message.raw]);
    expect(header(mail!, 'list-unsubscribe')).toMatch(/, <mailto:unsubscribe\+7-def@bounces\.example\.org\?subject=unsubscribe>$/);
    expect(mail?.addresses.from).toEqual([{ name: 'Briefing desk', address: 'briefing@briefing.example.org' }]);
    for (const hostile of ['bounce+7\r\nBcc: x@evil.example@bounces.example.org', 'no-at-sign', 'a b@bounces.example.org']) {
      expect(() => personaliseMessage(template, { ...recipient(7, null), returns: { ...returns, unsubscribeMailto: hostile } }, DATE)).toThrow(BriefingError);
      expect(() => personaliseMessage(template, { ...recipient(7, null), returns: { ...returns, envelopeFrom: hostile } }, DATE)).toThrow(BriefingError);
    }
    // In List-Unsubscribe an encoded-word opener could be decoded into a line break.
    expect(() => personaliseMessage(template, { ...recipient(7, null), returns: { ...returns, unsubscribeMailto: 'a=?utf-8?q?x@bounces.example.org' } }, DATE)).toThrow(BriefingError);
  });

  it('changes only what belongs to the recipient, and keeps the Message-ID across attempts', () => {
    const first = personaliseMessage(template, recipient(1, null), DATE);
    const again = personaliseMessage(template, recipient(1, null), new Date(DATE.getTime() + 60_000));
    const second = personaliseMessage(template, recipient(2, null), DATE);
    expect(again.messageId).toBe(first.messageId);
    expect(second.messageId).not.toBe(first.messageId);
    const other = personaliseMessage(prepareMessage(sampleBriefing('2025-07-24'), MESSAGE_OPTIONS), recipient(1, null), DATE);
    expect(other.messageId).not.toBe(first.messageId);
    const [a, b] = parseMail([first.raw, second.raw]);
    const strip = (content: string | undefined, id: number): string =>
      (content ?? '').replaceAll(`reader${id}@example.com`, 'ADDRESS').replace(/token=[^"\s]+/g, 'token=TOKEN');
    expect(strip(a?.parts[1]?.content, 1)).toBe(strip(b?.parts[1]?.content, 2));
    expect(strip(a?.parts[0]?.content, 1)).toBe(strip(b?.parts[0]?.content, 2));
  });

  it('prefixes a test copy with [TEST] and gives it its own Message-ID', () => {
    const test = prepareMessage(sampleBriefing(), { ...MESSAGE_OPTIONS, subjectPrefix: '[TEST] ' });
    const message = personaliseMessage(test, { ...recipient(1, null), subscriberId: null }, DATE);
    const [mail] = parseMail([message.raw]);
    expect(header(mail!, 'subject')).toBe('[TEST] Briefing, 23 July 2025: Peace talks – Protests');
    expect(message.messageId).toMatch(/^<2025-07-23\.test-[0-9a-f]{12}\.[0-9a-f]{16}@/);
    expect(message.subscriberId).toBeUndefined();
  });

  it.each([
    ['a CR LF in the name', 'Eve\r\nBcc: victim@example.com', 'eve@example.com'],
    ['a lone LF in the name', 'Eve\nX-Injected: yes', 'eve@example.com'],
    ['a NUL in the name', 'Eve\u0000', 'eve@example.com'],
    ['a NEL in the name', 'Eve\u0085Bcc: x@example.com', 'eve@example.com'],
    ['a line separator in the name', 'Eve\u2028Bcc: x@example.com', 'eve@example.com'],
    ['a CR LF in the address', null, 'eve@example.com\r\nBcc: victim@example.com'],
    ['angle brackets in the address', null, 'eve@example.com>, <victim@example.com'],
    ['a space in the address', null, 'eve @example.com'],
    ['a bidi override in the name', 'Eve\u202egnp.exe', 'eve@example.com'],
  ])('refuses %s instead of letting it start a header', (_label, name, address) => {
    expect(() => personaliseMessage(template, recipient(7, name, address), DATE)).toThrow(BriefingError);
  });

  it.each([
    // Short enough for one encoded-word: Python's parser keeps the space between two in a phrase.
    ['an encoded line break', '=?UTF-8?B?DQpCY2M6IHhAZXhhbXBsZS5jb20=?='],
    ['a quoted-printable line break', '=?UTF-8?Q?=0D=0ABcc:_x@example.com?='],
    ['a header-looking text', 'Bcc: victim@example.com'],
  ])('encodes %s in a name so no header can be added', (_label, name) => {
    const message = personaliseMessage(template, recipient(8, name), DATE);
    const [mail] = parseMail([message.raw]);
    expect(Object.keys(mail?.headers ?? {}).sort()).toEqual(
      ['content-type', 'date', 'from', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post', 'message-id', 'mime-version', 'subject', 'to'].sort(),
    );
    expect(mail?.addresses.to).toEqual([{ name, address: 'reader8@example.com' }]);
  });

  it('writes an RFC 6531 address with a UTF-8 local part as it is (it travels with SMTPUTF8)', () => {
    const message = personaliseMessage(template, recipient(9, 'Zoë', 'zoë.şahin@example.com'), DATE);
    expect(message.envelope.to).toBe('zoë.şahin@example.com');
    expect(message.raw.toString('utf8')).toContain('To: =?UTF-8?B?Wm/Dqw==?= <zoë.şahin@example.com>\r\n');
    const [mail] = parseMail([message.raw]);
    expect(mail?.addresses.to).toEqual([{ name: 'Zoë', address: 'zoë.şahin@example.com' }]);
  });

  it('refuses a subject with a line break when the edition is prepared', () => {
    expect(() => prepareMessage({ ...sampleBriefing(), subject: 'Hello\r\nBcc: victim@example.com' }, MESSAGE_OPTIONS)).toThrow(/subject contains a line break/);
  });

  it('encodes a long non-ASCII subject in encoded-words of at most 75 characters', () => {
    const subject = 'Переговори в Стамбулі: третій раунд, обмін полоненими і протести в Києві — підсумки дня';
    const message = personaliseMessage(prepareMessage({ ...sampleBriefing(), subject }, MESSAGE_OPTIONS), recipient(3, null), DATE);
    const head = message.raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
    for (const word of head.match(/=\?[^?]+\?[BQ]\?[^?]*\?=/g) ?? []) expect(word.length).toBeLessThanOrEqual(75);
    const [mail] = parseMail([message.raw]);
    expect(header(mail!, 'subject')).toBe(subject);
  });
});

describe('DKIM', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dns = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

  /** python3-dkim's verdict, with a DNS function that answers the test key's TXT record. */
  function verify(raw: Buffer): { verified: boolean; signed: string[] } {
    const program = [
      'import dkim, sys, json',
      'message = sys.stdin.buffer.read()',
      'record = sys.argv[1].encode()',
      "dns = lambda name, timeout=5: record if name == b'sel2025._domainkey.briefing.example.org.' else None",
      'verifier = dkim.DKIM(message)',
      'ok = verifier.verify(dnsfunc=dns)',
      "print(json.dumps({'verified': bool(ok), 'signed': [h.decode().lower() for h in verifier.include_headers]}))",
    ].join('\n');
    return JSON.parse(execFileSync('/usr/bin/python3', ['-c', program, dns], { input: raw }).toString()) as { verified: boolean; signed: string[] };
  }

  it('signs messages that python3-dkim verifies, covering both unsubscribe headers', () => {
    const dkim = createDkimSigner({ domain: 'briefing.example.org', selector: 'sel2025', privateKey: pem });
    const template = prepareMessage(sampleBriefing(), { ...MESSAGE_OPTIONS, dkim });
    const message = personaliseMessage(template, recipient(5, 'Zoë'), DATE);
    expect(message.raw.toString('latin1')).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=briefing\.example\.org; s=sel2025;/);
    const result = verify(message.raw);
    expect(result.verified).toBe(true);
    expect(result.signed).toEqual(expect.arrayContaining(['from', 'to', 'subject', 'date', 'message-id', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post']));
  });

  it.each([
    ['a changed unsubscribe link', (raw: string) => raw.replace('unsubscribe?token=5.', 'unsubscribe?token=6.')],
    ['an added List-Unsubscribe-Post', (raw: string) => raw.replace('\r\n\r\n', '\r\nList-Unsubscribe-Post: List-Unsubscribe=Two-Clicks\r\n\r\n')],
    ['a changed body', (raw: string) => raw.replace('Unsubscribe', 'Unsubscr1be')],
  ])('fails verification after %s', (_label, tamper) => {
    const dkim = createDkimSigner({ domain: 'briefing.example.org', selector: 'sel2025', privateKey: pem });
    const message = personaliseMessage(prepareMessage(sampleBriefing(), { ...MESSAGE_OPTIONS, dkim }), recipient(5, null), DATE);
    expect(verify(Buffer.from(tamper(message.raw.toString('latin1')), 'latin1')).verified).toBe(false);
  });

  it('accepts a key given on one line with \\n escapes and refuses a bad key without quoting it', () => {
    expect(() => createDkimSigner({ domain: 'briefing.example.org', selector: 's', privateKey: pem.replace(/\n/g, '\\n') })).not.toThrow();
    const secretLooking = 'not-a-key-but-secret-material-1234567890';
    let message = '';
    try {
      createDkimSigner({ domain: 'briefing.example.org', selector: 's', privateKey: secretLooking });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/BRIEFING_DKIM_KEY is not a readable private key/);
    expect(message).not.toContain(secretLooking);
  });
});
