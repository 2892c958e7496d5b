import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodemailerTransport, createSendmailTransport } from '../../src/delivery/nodemailer-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import type { Transport } from '../../src/delivery/transport.js';
import { startSmtpTestServer, type SmtpTestServer, type SmtpTestServerOptions } from '../support/smtp-test-server.js';
import { testMessage as message, transportFailure as failure } from './transport-fixtures.js';

let server: SmtpTestServer | undefined;
let transport: Transport | undefined;

afterEach(async () => {
  await transport?.close();
  await server?.close();
  transport = undefined;
  server = undefined;
});


/**
 * A server and a nodemailer transport to it. `host` `[::ffff:127.0.0.1]` reaches the same server
 * through an address that is not loopback by name, so the rules for other machines apply.
 */
async function start(
  options: SmtpTestServerOptions,
  { query = '', userinfo = '', host = '127.0.0.1', oauth2AccessToken = undefined as string | undefined } = {},
): Promise<{ server: SmtpTestServer; transport: Transport }> {
  server = await startSmtpTestServer(options);
  transport = createNodemailerTransport(parseSmtpUrl(`smtp://${userinfo}${host}:${server.port}${query}`), { maxConnections: 2, timeoutMs: 5000, oauth2AccessToken });
  return { server, transport };
}


describe('nodemailer transport (BRIEFING_TRANSPORT=nodemailer)', () => {
  it.each([
    ['a refused recipient (550 5.1.1)', { rejectRecipients: new Set(['gone@example.com']) }, 'gone@example.com', { temporary: false, bounce: true, responseCode: 550, fatal: false }],
    ['a message too big (552)', { maxSize: 100 }, 'reader@example.com', { temporary: false, bounce: false, responseCode: 552, fatal: false }],
    ['a temporary refusal', { temporaryRate: 1, seed: 3 }, 'reader@example.com', { temporary: true, bounce: false, fatal: false }],
  ])('maps %s to a TransportError that says whether to retry or bounce', async (_label, faults, to, expected) => {
    const { transport } = await start(faults);
    const error = await failure(transport.send(message(1, to, 'x'.repeat(200))));
    expect(error).toMatchObject(expected);
  });

  it('retries a dropped connection once the server has accepted mail, instead of stopping the send', async () => {
    const { server, transport } = await start({});
    await transport.send(message(1));
    server.setFaults({ dropRate: 1, dropStages: ['rcpt'] });
    const error = await failure(transport.send(message(2)));
    expect(error).toMatchObject({ temporary: true, fatal: false });
  });

  it('keeps sending after a refused recipient, with the envelope of each message', async () => {
    const { server, transport } = await start({ rejectRecipients: new Set(['gone@example.com']) });
    const results = await Promise.allSettled([transport.send(message(1, 'gone@example.com')), transport.send(message(2)), transport.send(message(3, 'zoë@example.com'))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(server.messages.map((received) => received.to).sort()).toEqual([['reader2@example.com'], ['zoë@example.com']]);
  });

  it('requires STARTTLS for a host that is not loopback, and stops fatally where it is not offered, before the password is sent', async () => {
    const { server, transport } = await start({ auth: { user: 'briefing', pass: 'n0t-in-clear' } }, { userinfo: 'briefing:n0t-in-clear@', host: '[::ffff:127.0.0.1]' });
    const error = await failure(transport.send(message(1)));
    expect(error).toMatchObject({ fatal: true });
    expect(server.logins).toEqual([]);
    expect(server.counts.size).toBe(0);
  });

  it('upgrades with STARTTLS for a host that is not loopback', async () => {
    const { server, transport } = await start({ starttls: true }, { host: '[::ffff:127.0.0.1]', query: '?tls.rejectUnauthorized=false' });
    await transport.send(message(1));
    expect(server.counts.size).toBe(1);
  });

  it('never sends a password in the clear when TLS is only wanted if offered (requireTLS=false) and the server offers none', async () => {
    const { server, transport } = await start({ auth: { user: 'briefing', pass: 'n0t-in-clear' } }, { userinfo: 'briefing:n0t-in-clear@', host: '[::ffff:127.0.0.1]', query: '?requireTLS=false' });
    const error = await failure(transport.send(message(1)));
    expect(error).toMatchObject({ fatal: true });
    expect(server.logins).toEqual([]);
  });

  it('refuses a password over a connection without TLS (ignoreTLS=true) to another machine, without connecting', async () => {
    const { server, transport } = await start({ auth: { user: 'briefing', pass: 'n0t-in-clear' } }, { userinfo: 'briefing:n0t-in-clear@', host: '[::ffff:127.0.0.1]', query: '?ignoreTLS=true' });
    const error = await failure(transport.send(message(1)));
    expect(error).toMatchObject({ fatal: true });
    expect(error.message).toMatch(/refusing to send the SMTP password over an unencrypted connection/);
    expect(server.connections).toBe(0);
  });

  it('logs in with the URL\u2019s user and password and describes itself without the password', async () => {
    const { server, transport } = await start({ auth: { user: 'briefing', pass: 's3cr3t pass' } }, { userinfo: 'briefing:s3cr3t%20pass@' });
    await transport.send(message(1));
    expect(server.logins).toEqual(['briefing']);
    expect(transport.description).toBe(`nodemailer smtp://127.0.0.1:${server.port}`);
  });

  it('stops with a fatal error when the login is refused, without quoting the password', async () => {
    const { transport } = await start({ auth: { user: 'briefing', pass: 'right' } }, { userinfo: 'briefing:wr0ng-p4ss@' });
    const error = await failure(transport.send(message(1)));
    expect(error).toMatchObject({ fatal: true, responseCode: 535 });
    expect(`${error.message} ${String(error.cause)}`).not.toContain('wr0ng-p4ss');
  });

  const TOKEN = 'ya29.a0AfH6SMB-right-access-token';
  const oauth2 = { oauth2: { user: 'briefing@example.org', accessToken: TOKEN } };

  it('logs in with XOAUTH2 as the URL\u2019s user with BRIEFING_SMTP_OAUTH2_TOKEN, and describes itself without the token', async () => {
    const { server, transport } = await start(oauth2, { userinfo: 'briefing%40example.org@', oauth2AccessToken: TOKEN });
    await transport.send(message(1));
    expect(server.logins).toEqual(['briefing@example.org']);
    expect(server.counts.size).toBe(1);
    expect(transport.description).toBe(`nodemailer smtp://127.0.0.1:${server.port}`);
  });

  it('stops with a fatal error when the server refuses the OAuth2 token, quoting no part of it', async () => {
    const wrong = 'ya29.Wr0ngT0kenNeverPrinted';
    const { server, transport } = await start(oauth2, { userinfo: 'briefing%40example.org@', oauth2AccessToken: wrong });
    const error = await failure(transport.send(message(1)));
    expect(error).toMatchObject({ fatal: true, responseCode: 535 });
    expect(error.message).toMatch(/Invalid login/);
    const shown = `${error.message} ${String(error.cause)} ${transport.description}`;
    for (let at = 0; at + 6 <= wrong.length; at += 1) expect(shown).not.toContain(wrong.slice(at, at + 6));
    expect(server.logins).toEqual([]);
    expect(server.counts.size).toBe(0);
  });

  it.each([
    ['no user in the URL', '', /^config: BRIEFING_SMTP_OAUTH2_TOKEN needs a user in BRIEFING_SMTP_URL/],
    ['a password in the URL too', 'briefing:s3cret@', /^config: BRIEFING_SMTP_OAUTH2_TOKEN and a password in BRIEFING_SMTP_URL are two logins/],
  ])('refuses BRIEFING_SMTP_OAUTH2_TOKEN with %s, before connecting and without quoting the token', (_label, userinfo, expected) => {
    const url = parseSmtpUrl(`smtp://${userinfo}127.0.0.1:2525`);
    const attempt = (): Transport => createNodemailerTransport(url, { maxConnections: 1, timeoutMs: 1000, oauth2AccessToken: TOKEN });
    expect(attempt).toThrow(expected);
    expect(attempt).not.toThrow(/ya29/);
  });
});

describe('nodemailer sendmail transport (BRIEFING_SMTP_URL=sendmail:PATH)', () => {
  /** A mail program with sendmail's interface that records its arguments and exits with `exit`. */
  function program(exit: number): { file: string; args: () => string; remove: () => void } {
    const root = mkdtempSync(path.join(tmpdir(), 'briefing-sendmail-'));
    const file = path.join(root, 'sendmail');
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "$@" > '${root}/args'\ncat > /dev/null\nexit ${exit}\n`);
    chmodSync(file, 0o755);
    return { file, args: () => readFileSync(path.join(root, 'args'), 'utf8'), remove: () => rmSync(root, { recursive: true, force: true }) };
  }

  it('gives the program the envelope: -i, -f sender, the recipient', async () => {
    const mailer = program(0);
    try {
      await createSendmailTransport(mailer.file).send(message(1, 'zoë@example.com'));
      expect(mailer.args()).toBe('-i\n-f\nbriefing@example.org\nzoë@example.com\n');
    } finally {
      mailer.remove();
    }
  });

  it.each([
    [67, 'the address is unknown (EX_NOUSER)', { temporary: false, bounce: true, fatal: false }],
    [65, 'the message is refused (EX_DATAERR)', { temporary: false, bounce: false, fatal: false }],
    [75, 'try later (EX_TEMPFAIL)', { temporary: true, bounce: false, fatal: false }],
  ])('maps exit code %i, %s, to a TransportError that says whether to retry or bounce', async (code, _label, expected) => {
    const mailer = program(code);
    try {
      const error = await failure(createSendmailTransport(mailer.file).send(message(1)));
      expect(error).toMatchObject(expected);
      expect(error.message).toContain(`exited with code ${code}`);
    } finally {
      mailer.remove();
    }
  });
});
