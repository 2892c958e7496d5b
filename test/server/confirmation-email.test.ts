import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDkimSigner } from '../../src/delivery/dkim.js';
import { buildConfirmationMessage, type ConfirmationEmail } from '../../src/server/confirmation-email.js';
import { header, parseMail } from '../support/parse-mail.js';

const LINK = `https://briefing.example.org/confirm?token=12.${'a1b2c3'.repeat(20)}=`;
const EMAIL: ConfirmationEmail = {
  sender: { name: 'Briefing desk', address: 'briefing@briefing.example.org', replyTo: 'desk@briefing.example.org' },
  listId: 'daily.briefing.example.org',
  timeZone: 'Europe/Kyiv',
  subject: 'Confirm your subscription to Briefing — Київ',
  text: `Hello Dörte,\n.a line that starts with a dot\nConfirm: ${LINK}\n`,
  recipient: { subscriberId: 12, address: 'doerte@example.org', name: 'Dörte' },
  date: new Date('2025-07-24T07:00:00Z'),
};

describe('the confirmation message, composed by nodemailer', () => {
  it('reads back without defects: its header fields, names and the text with its long link whole', async () => {
    const message = await buildConfirmationMessage(EMAIL);
    const [mail] = parseMail([message.raw]);
    expect(mail?.defects).toEqual([]);
    expect(mail?.bareLineFeeds).toBe(0);
    expect(mail?.maxLineLength).toBeLessThanOrEqual(998);
    expect(Object.keys(mail?.headers ?? {}).sort()).toEqual(['auto-submitted', 'content-transfer-encoding', 'content-type', 'date', 'from', 'message-id', 'mime-version', 'reply-to', 'subject', 'to']);
    expect(header(mail!, 'subject')).toBe(EMAIL.subject);
    expect(header(mail!, 'date')).toBe('Thu, 24 Jul 2025 10:00:00 +0300');
    expect(header(mail!, 'message-id')).toBe(message.messageId);
    expect(mail?.addresses.to).toEqual([{ name: 'Dörte', address: 'doerte@example.org' }]);
    expect(mail?.parts.map((part) => part.content.replace(/\r\n/g, '\n'))).toEqual([EMAIL.text]);
    expect(message.envelope).toEqual({ from: 'briefing@briefing.example.org', to: 'doerte@example.org' });
  });

  it('writes an international address as UTF-8 (RFC 6532), in the To field and the envelope', async () => {
    const address = 'dörte@xn--bcher-kva.example';
    const message = await buildConfirmationMessage({ ...EMAIL, recipient: { ...EMAIL.recipient, address } });
    const [mail] = parseMail([message.raw]);
    // Python's parser notes any UTF-8 local part as a defect; RFC 6532 allows it, and nothing else is wrong.
    expect(mail?.defects).toEqual(['NonASCIILocalPartDefect']);
    expect(mail?.addresses.to).toEqual([{ name: 'Dörte', address }]);
    expect(message.envelope.to).toBe(address);
  });

  it('gives each request its own Message-ID', async () => {
    const [first, second] = await Promise.all([buildConfirmationMessage(EMAIL), buildConfirmationMessage(EMAIL)]);
    expect(first?.messageId).not.toBe(second?.messageId);
  });

  it('is signed over the address fields and the composed head and body, and python3-dkim verifies it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dkim = createDkimSigner({ domain: 'briefing.example.org', selector: 'sel2025', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const message = await buildConfirmationMessage({ ...EMAIL, dkim });
    const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    const program = [
      'import dkim, sys, json',
      'message = sys.stdin.buffer.read()',
      "dns = lambda name, timeout=5: sys.argv[1].encode() if name == b'sel2025._domainkey.briefing.example.org.' else None",
      'verifier = dkim.DKIM(message)',
      'try:\n  ok = verifier.verify(dnsfunc=dns)\nexcept dkim.ValidationError:\n  ok = False',
      "print(json.dumps({'verified': bool(ok), 'signed': [h.decode().lower() for h in verifier.include_headers]}))",
    ].join('\n');
    const verify = (raw: Buffer): { verified: boolean; signed: string[] } => JSON.parse(execFileSync('/usr/bin/python3', ['-c', program, record], { input: raw }).toString());
    const result = verify(message.raw);
    expect(result.verified).toBe(true);
    expect(result.signed).toEqual(expect.arrayContaining(['from', 'to', 'reply-to', 'subject', 'date', 'message-id', 'content-type']));
    expect(verify(Buffer.from(message.raw.toString('latin1').replace('Confirm:', 'C0nfirm:'), 'latin1')).verified).toBe(false);
  });
});
