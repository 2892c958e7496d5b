/**
 * A confirmation email the mail server could not take when the reader subscribed (down, or busy with
 * 4xx replies) is tried again later, over a real SMTP server; a permanent refusal is not, and a
 * message not sent does not use up the inbox's allowance.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBackgroundTasks, MAX_WAITING_TASKS } from '../../src/server/background-tasks.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { captureLogger, confirmationLink, createPublication, fromClient, openTestServer, readMail, type TestPublication, type TestServer } from './support.js';

let smtp: SmtpTestServer;
let publication: TestPublication;
let server: TestServer;
let client = 0;

beforeEach(async () => {
  smtp = await startSmtpTestServer({ keepRaw: true });
  publication = createPublication({ smtpUrl: smtp.url });
  server = await openTestServer(publication, { limits: { confirmRetryMs: [40, 40] } });
});

afterEach(async () => {
  await server.close();
  await smtp.close();
  publication.cleanup();
});

async function subscribe(address: string): Promise<void> {
  client += 1;
  const body = new URLSearchParams({ address }).toString();
  const response = await server.app.request(
    '/subscribe',
    { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    fromClient(`192.0.2.${client}`),
  );
  expect(response.status).toBe(303);
}

/** Log records of a message. */
function logged(message: string): Array<Record<string, unknown>> {
  return server.records.filter((record) => record.msg === message);
}

describe('confirmation email when the mail server cannot take it', () => {
  it('is tried again once the server is back, with a link that works', async () => {
    // Every command answered 421/451/452: the server is there but takes nothing.
    smtp.setFaults({ temporaryRate: 1 });
    await subscribe('patient@example.org');
    // Let the first try fail, then bring the server back before the retry.
    while (logged('server: confirmation email not sent now, trying again later').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(smtp.messages).toHaveLength(0);
    smtp.setFaults({});
    await server.deps.tasks.idle();
    const mail = readMail(smtp, 0);
    expect(mail.map((message) => message.to)).toEqual(['patient@example.org']);
    const link = new URL(confirmationLink(mail[0] as { text: string }));
    const confirmed = await server.app.request(`${link.pathname}${link.search}`, { method: 'POST' }, fromClient('192.0.2.250'));
    expect(confirmed.status).toBe(200);
    expect((await server.store.findSubscriber('patient@example.org'))?.status).toBe('active');
  });

  it('is tried again when the server drops every connection before its greeting (down)', async () => {
    smtp.setFaults({ dropRate: 1, dropStages: ['connect'] });
    await subscribe('outage@example.org');
    while (logged('server: confirmation email not sent now, trying again later').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    smtp.setFaults({});
    await server.deps.tasks.idle();
    expect(readMail(smtp, 0).map((message) => message.to)).toEqual(['outage@example.org']);
  });

  it('gives up after the configured tries and logs it; the tries take nothing more from the inbox\'s allowance', async () => {
    smtp.setFaults({ temporaryRate: 1 });
    await subscribe('unlucky@example.org');
    await server.deps.tasks.idle();
    // The first try and one after each delay.
    expect(logged('server: confirmation email not sent now, trying again later')).toHaveLength(2);
    expect(logged('server: confirmation failed')).toHaveLength(1);
    expect(smtp.messages).toHaveLength(0);
    // The request took one of the two confirmations a quarter hour, its tries none.
    smtp.setFaults({});
    await subscribe('unlucky@example.org');
    await subscribe('unlucky@example.org');
    await server.deps.tasks.idle();
    expect(readMail(smtp, 0)).toHaveLength(1);
  });

  it('does not try again a message the server may have taken (the connection broke after the data)', async () => {
    smtp.setFaults({ dropRate: 1, dropStages: ['accepted'] });
    for (let request = 0; request < 3; request += 1) await subscribe('victim@example.org');
    await server.deps.tasks.idle();
    // Two requests within the allowance, each mailed once; none tried again.
    expect(smtp.messages).toHaveLength(2);
    expect(logged('server: confirmation email not sent now, trying again later')).toHaveLength(0);
  });

  it('does not try again a message the server refused for good (550)', async () => {
    smtp.setFaults({ rejectRecipients: new Set(['nobody@example.org']) });
    await subscribe('nobody@example.org');
    await server.deps.tasks.idle();
    expect(smtp.faults.get('550')).toBe(1);
    expect(logged('server: confirmation email not sent now, trying again later')).toHaveLength(0);
    expect(logged('server: subscription failed')).toHaveLength(1);
  });

  it('sends nothing on a retry for an address whose status changed meanwhile (confirmed, then unsubscribed)', async () => {
    smtp.setFaults({ temporaryRate: 1 });
    await subscribe('quick@example.org');
    while (logged('server: confirmation email not sent now, trying again later').length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const subscriber = await server.store.findSubscriber('quick@example.org');
    await server.store.setSubscriberStatus(subscriber?.id as number, 'active', new Date(), 'confirmed by hand');
    await server.store.setSubscriberStatus(subscriber?.id as number, 'unsubscribed', new Date(Date.now() + 1), 'unsubscribe link');
    smtp.setFaults({});
    await server.deps.tasks.idle();
    expect(smtp.messages).toHaveLength(0);
  });
});

describe('confirmation email with a mail server that refuses our login', () => {
  it('is not tried again: a refused login needs the operator, not retries', async () => {
    const guarded = await startSmtpTestServer({ auth: { user: 'briefing', pass: 'right' } });
    const refused = createPublication({ smtpUrl: `smtp://briefing:wr0ng-password@127.0.0.1:${guarded.port}` });
    const app = await openTestServer(refused, { limits: { confirmRetryMs: [40, 40] } });
    try {
      const response = await app.app.request('/subscribe', { method: 'POST', body: 'address=someone%40example.org', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, fromClient('192.0.2.200'));
      expect(response.status).toBe(303);
      await app.deps.tasks.idle();
      expect(app.records.filter((record) => record.msg === 'server: confirmation email not sent now, trying again later')).toHaveLength(0);
      expect(app.records.filter((record) => record.msg === 'server: subscription failed')).toHaveLength(1);
    } finally {
      await app.close();
      await guarded.close();
      refused.cleanup();
    }
  });
});

describe('background tasks', () => {
  it('keeps at most MAX_WAITING_TASKS waiting, and drops those still waiting at shutdown without running them', async () => {
    const { logger, records } = captureLogger();
    const tasks = createBackgroundTasks(logger);
    let ran = 0;
    const accepted = Array.from({ length: MAX_WAITING_TASKS + 5 }, () => tasks.later('retry', 60_000, async () => void (ran += 1)));
    expect(accepted.filter(Boolean)).toHaveLength(MAX_WAITING_TASKS);
    await tasks.close();
    expect(records.some((record) => String(record.msg).includes(`${MAX_WAITING_TASKS} task(s) waiting`))).toBe(true);
    expect(tasks.later('retry', 0, async () => void (ran += 1))).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toBe(0);
  });
});
