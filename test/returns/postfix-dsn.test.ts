import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReturnedMail } from '../../src/returns/read-returned-mail.js';
import { bounceAddress, readReturnAddress, unsubscribeAddress, verifyReturnAddress } from '../../src/returns/return-address.js';
import { postfixMissing, startPostfix, type PostfixInstance } from '../support/postfix-instance.js';

const SECRET = 'postfix-test-secret-0123456789';
const LINK_KEY = 'postfix-test-link-key-0123456789';

// Under CI=true postfixMissing throws when Postfix cannot run, so this file fails instead of skipping.
const missing = postfixMissing();

if (missing !== undefined) {
  describe.skip(`a DSN written by a real Postfix (${missing})`, () => {
    it('needs Postfix and root', () => undefined);
  });
} else {
  describe('a DSN written by a real Postfix', () => {
    let postfix: PostfixInstance;

    beforeAll(async () => {
      postfix = await startPostfix();
    });

    afterAll(async () => {
      await postfix?.stop();
    });

    it('a message to an unknown user comes back as a hard bounce naming its bounce+ address, with a 5.x.x status', async () => {
      const subject = { subscriberId: 7, editionId: '2025-07-24', linkKey: LINK_KEY };
      const envelopeFrom = bounceAddress(SECRET, subject, postfix.bounceDomain);
      const mailto = unsubscribeAddress(SECRET, subject, postfix.bounceDomain);
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: postfix.smtpPort, secure: false, ignoreTLS: true });
      try {
        await transport.sendMail({
          envelope: { from: envelopeFrom, to: `nobody-here@${postfix.localDomain}` },
          raw: [
            'From: The Briefing <news@briefing.test>',
            `To: nobody-here@${postfix.localDomain}`,
            'Subject: The Briefing: Protests',
            'Message-ID: <2025-07-24.7@briefing.test>',
            `List-Unsubscribe: <https://briefing.test/unsubscribe?token=7.x>, <mailto:${mailto}?subject=unsubscribe>`,
            'MIME-Version: 1.0',
            'Content-Type: text/plain; charset=utf-8',
            '',
            'The briefing.',
            '',
          ].join('\r\n'),
        });
      } finally {
        transport.close();
      }

      const [dsn] = await postfix.waitForMail(1, 30_000);
      if (dsn === undefined) throw new Error('no DSN');
      const mail = await readReturnedMail(dsn);
      expect(mail.kind, `${mail.why}\n${dsn.toString('utf8')}`).toBe('hard-bounce');
      expect(mail.status).toMatch(/^5\.\d{1,3}\.\d{1,3}$/);
      expect(mail.returnAddresses[0]).toBe(envelopeFrom);
      expect(mail.detail).toMatch(/nobody-here/);
      expect(mail.key).toMatch(/^<.+@mx\.briefing\.test>$/);
      const parsed = readReturnAddress(mail.returnAddresses[0]);
      expect(parsed).toMatchObject({ kind: 'bounce', subscriberId: 7, editionId: '2025-07-24', domain: postfix.bounceDomain });
      expect(parsed !== undefined && verifyReturnAddress([SECRET], parsed, LINK_KEY)).toBe(true);
    });
  });
}
