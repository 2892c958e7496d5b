import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { prepareMessage } from '../../src/delivery/message.js';
import { oneTemplate, sendEdition, templatesByChoice, type SendProgress, type SenderDependencies } from '../../src/delivery/send-edition.js';
import { createSmtpTransport } from '../../src/delivery/smtp-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import { verifyToken } from '../../src/delivery/tokens.js';
import type { Transport } from '../../src/delivery/transport.js';
import { BriefingError } from '../../src/errors.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { header, parseMail } from '../support/parse-mail.js';
import { startSmtpTestServer, type SmtpTestServer, type SmtpTestServerOptions } from '../support/smtp-test-server.js';
import { MESSAGE_OPTIONS, SECRET, SITE_URL, sampleBriefing } from './fixtures.js';

const EDITION = '2025-07-23';
const logger = pino({ level: 'silent' });
const SETTINGS: Config['delivery'] = {
  concurrency: 8,
  messagesPerSecond: 0,
  // Enough that a recoverable message cannot run out of attempts under the injected fault rates.
  maxAttempts: 16,
  retryBaseMs: 5,
  retryMaxMs: 40,
  leaseSeconds: 120,
  batchSize: 50,
  recordBatch: 16,
  timeoutMs: 2000,
};

let folder: string;
let store: Store;
let server: SmtpTestServer | undefined;
let transport: Transport | undefined;

beforeEach(async () => {
  folder = mkdtempSync(path.join(tmpdir(), 'briefing-send-'));
  store = await openStoreAt({ kind: 'sqlite', file: path.join(folder, 'briefing.db') });
});

afterEach(async () => {
  await transport?.close();
  await server?.close();
  await store.close();
  rmSync(folder, { recursive: true, force: true });
  transport = undefined;
  server = undefined;
});

/** Subscribers reader1…readerN@example.com (ids 1…N), and the edition they are to get. */
async function seed(count: number, names: (n: number) => string | null = () => null): Promise<void> {
  const now = new Date();
  await store.addSubscribers(
    Array.from({ length: count }, (_, index) => ({ address: `reader${index + 1}@example.com`, name: names(index + 1), status: 'active' as const, source: 'test' })),
    now,
  );
  await store.createEdition({ id: EDITION, slot: now, status: 'planned', cutoff: now, subject: 'Briefing', note: null, memory: {} }, now);
}

async function connect(options: SmtpTestServerOptions = {}): Promise<void> {
  server = await startSmtpTestServer(options);
  transport = createSmtpTransport(parseSmtpUrl(server.url), { maxConnections: SETTINGS.concurrency, timeoutMs: SETTINGS.timeoutMs, logger });
}

function dependencies(overrides: Partial<SenderDependencies> = {}): SenderDependencies {
  if (!transport) throw new Error('connect() first');
  let state = 7;
  return {
    store,
    transport,
    clock: { now: () => new Date() },
    settings: SETTINGS,
    secret: SECRET,
    siteUrl: SITE_URL,
    logger,
    random: () => ((state = (state * 48271) % 2147483647) / 2147483647),
    ...overrides,
  };
}

const template = prepareMessage(sampleBriefing(EDITION), MESSAGE_OPTIONS);
const idOf = (messageId: string): number => Number(/^<[^.]+\.(\d+)\./.exec(messageId)?.[1]);

describe('sendEdition', () => {
  it('sends 500 subscribers 500 distinct messages, each with its own headers and unsubscribe token', async () => {
    await seed(500, (n) => (n % 3 === 0 ? `Reader ${n} Zoë` : null));
    await connect({ keepRaw: true });
    const batches: number[] = [];
    const counting = { ...store, recordOutcomes: (...args: Parameters<Store['recordOutcomes']>) => (batches.push(args[2].length), store.recordOutcomes(...args)) };
    const reports: SendProgress[] = [];
    const summary = await sendEdition(dependencies({ store: counting, onProgress: (report) => reports.push(report) }), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });

    expect(summary).toMatchObject({ enqueued: 500, sent: 500, failed: 0, retried: 0, complete: true, stopped: false, counts: { queued: 0, sending: 0, sent: 500, failed: 0, skipped: 0 } });
    expect(server?.counts.size).toBe(500);
    expect([...(server?.counts.values() ?? [])].every((count) => count === 1)).toBe(true);
    // Outcomes go to the store in batches, not one transaction per message, and never more than
    // the duplicate bound (in flight + recordBatch) wait unrecorded.
    expect(batches.length).toBeLessThan(500 / 4);
    expect(Math.max(...batches)).toBeLessThanOrEqual(SETTINGS.concurrency + SETTINGS.recordBatch);
    expect(reports.at(-1)).toMatchObject({ total: 500, done: 500, sent: 500 });

    const mails = parseMail(server?.messages.map((received) => received.raw) ?? []);
    for (const mail of mails) {
      expect(mail.defects).toEqual([]);
      const messageId = header(mail, 'message-id') ?? '';
      const subscriberId = idOf(messageId);
      const token = /token=([^>]+)>/.exec(header(mail, 'list-unsubscribe') ?? '')?.[1];
      const linkKey = (await store.getSubscriber(subscriberId))?.linkKey ?? '';
      expect(verifyToken([SECRET], 'unsubscribe', token, linkKey, new Date())).toEqual({ ok: true, subscriberId, expiresAt: null });
      expect(mail.addresses.to).toEqual([{ name: subscriberId % 3 === 0 ? `Reader ${subscriberId} Zoë` : '', address: `reader${subscriberId}@example.com` }]);
      expect(header(mail, 'subject')).toBe('Briefing, 23 July 2025: Peace talks – Protests');
      expect(header(mail, 'list-id')).toBe('Briefing <daily.briefing.example.org>');
      expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
      expect(mail.parts.map((part) => part.type)).toEqual(['text/plain', 'text/html']);
      expect(mail.parts[0]?.content).toContain(`unsubscribe?token=${token}`);
    }
    expect(new Set(mails.map((mail) => header(mail, 'to'))).size).toBe(500);

    // Running again sends nothing: every delivery is sent.
    const again = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });
    expect(again).toMatchObject({ enqueued: 0, sent: 0, complete: true });
    expect(server?.messages.length).toBe(500);
  });

  it('gets every recoverable message through 421/451/452 replies and dropped connections exactly once, and fails the 550s', async () => {
    await seed(300);
    const gone = new Set(Array.from({ length: 12 }, (_, index) => `reader${index * 25 + 3}@example.com`));
    await connect({ seed: 11, temporaryRate: 0.08, dropRate: 0.03, dropStages: ['connect', 'mail', 'rcpt', 'data'], rejectRecipients: gone });
    const summary = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });

    expect(summary).toMatchObject({ sent: 288, failed: 12, bounced: 12, complete: true, counts: { sent: 288, failed: 12, queued: 0, sending: 0 } });
    expect(summary.retried).toBeGreaterThan(10);
    expect(server?.faults.get('550')).toBe(12);
    for (let id = 1; id <= 300; id += 1) {
      const arrivals = [...(server?.counts.entries() ?? [])].filter(([messageId]) => idOf(messageId) === id).map(([, count]) => count);
      expect(arrivals).toEqual(gone.has(`reader${id}@example.com`) ? [] : [1]);
    }
    const failed = await store.listDeliveries({ editionId: EDITION, status: 'failed', limit: 100 });
    expect(failed.map((delivery) => delivery.address).sort()).toEqual([...gone].sort());
    expect(failed.every((delivery) => /^550 5\.1\.1 No such user here/.test(delivery.lastReply ?? ''))).toBe(true);
    for (const delivery of failed) expect((await store.getSubscriber(delivery.subscriberId))?.status).toBe('bounced');
  });

  it('allows a duplicate only for a message whose acceptance raced a reset', async () => {
    await seed(200);
    await connect({ seed: 5, dropRate: 0.05, dropStages: ['accepted'] });
    const summary = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });
    expect(summary).toMatchObject({ sent: 200, failed: 0 });
    expect(server?.raced.size).toBeGreaterThan(0);
    // Each race costs one extra copy of that message, and nothing else is doubled.
    for (const [messageId, count] of server?.counts ?? []) expect(count).toBe(1 + (server?.raced.get(messageId) ?? 0));
    expect(server?.counts.size).toBe(200);
  });

  it('gives up after maxAttempts temporary failures, without bouncing the subscriber', async () => {
    await seed(5);
    await connect({ temporaryRate: 1 });
    const summary = await sendEdition(dependencies({ settings: { ...SETTINGS, maxAttempts: 3 } }), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });
    expect(summary).toMatchObject({ sent: 0, failed: 5, bounced: 0, retried: 10, complete: true });
    const failed = await store.listDeliveries({ editionId: EDITION, status: 'failed', limit: 10 });
    expect(failed.every((delivery) => delivery.attempts === 3 && /gave up after 3 attempts/.test(delivery.lastReply ?? ''))).toBe(true);
    expect((await store.getSubscriber(1))?.status).toBe('active');
  });

  it('fails a subscriber whose stored name cannot go in a header and sends the others', async () => {
    await seed(20);
    // The store refuses such a name; a row written behind its back (an old version, a manual edit) must still not reach a header.
    const database = new Database(path.join(folder, 'briefing.db'));
    database.prepare('UPDATE subscribers SET name = ? WHERE id = 7').run('Eve\r\nBcc: victim@example.com');
    database.close();
    await connect();
    const summary = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });
    expect(summary).toMatchObject({ sent: 19, failed: 1, bounced: 0 });
    const [failed] = await store.listDeliveries({ editionId: EDITION, status: 'failed', limit: 10 });
    expect(failed?.subscriberId).toBe(7);
    expect(failed?.lastReply).toMatch(/not sent: delivery: the recipient name contains a line break or control character/);
    expect(server?.messages.every((received) => received.to[0] !== 'reader7@example.com')).toBe(true);
  });

  it('stops claiming on the stop signal, finishes what is in flight, and resumes without duplicates', async () => {
    await seed(400);
    await connect();
    const stop = new AbortController();
    const first = await sendEdition(dependencies({ stopSignal: stop.signal, onProgress: (report) => report.sent >= 100 && stop.abort() }), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });
    expect(first.stopped).toBe(true);
    expect(first.counts.sending).toBe(0);
    expect(first.counts.sent).toBe(server?.counts.size);
    expect(first.counts.sent + first.counts.queued).toBe(400);
    const second = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: false });
    expect(second).toMatchObject({ complete: true, counts: { sent: 400, queued: 0 } });
    expect(server?.counts.size).toBe(400);
    expect([...(server?.counts.values() ?? [])].every((count) => count === 1)).toBe(true);
  });

  it('takes over the rows of a dead sender on this host at once, and those of a live one after their lease', async () => {
    await seed(60);
    await connect();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const now = new Date();
    const deadWorker = `${hostname()}:${dead}:dead`;
    const liveWorker = `${hostname()}:${process.ppid}:live`;
    await store.enqueueDeliveries(EDITION, now);
    const held = await store.claimDeliveries({ editionId: EDITION, worker: deadWorker, limit: 20, now, leaseUntil: new Date(now.getTime() + 3600_000) });
    const leased = await store.claimDeliveries({ editionId: EDITION, worker: liveWorker, limit: 20, now, leaseUntil: new Date(now.getTime() + 300) });
    expect(held.length + leased.length).toBe(40);
    const summary = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: true });
    expect(summary).toMatchObject({ sent: 60, complete: true });
    expect(server?.counts.size).toBe(60);
  });

  it("sends each delivery its topic choice's template, and stops, leaving it queued, at a choice it has no template for", async () => {
    const now = new Date();
    const readers = [
      { address: 'talks1@example.com', topics: ['talks'] },
      { address: 'all@example.com', topics: null },
      { address: 'talks2@example.com', topics: ['talks'] },
      // Enqueued by another sender after this one prepared its templates.
      { address: 'late@example.com', topics: ['war'] },
    ];
    await store.addSubscribers(readers.map((reader) => ({ ...reader, status: 'active' as const, source: 'test' })), now);
    await store.createEdition({ id: EDITION, slot: now, status: 'planned', cutoff: now, subject: 'Briefing', note: null, memory: {} }, now);
    await connect({ keepRaw: true });
    const talks = prepareMessage({ ...sampleBriefing(EDITION), subject: 'Briefing, 23 July 2025: Peace talks', text: `${sampleBriefing(EDITION).text}${'x'.repeat(40_000)}` }, MESSAGE_OPTIONS);
    const templates = templatesByChoice([
      [null, template],
      [['talks'], talks],
    ]);
    expect(templates.largest).toBe(talks.size);
    const error = await sendEdition(dependencies({ settings: { ...SETTINGS, concurrency: 1 } }), { editionId: EDITION, templates, enqueue: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as BriefingError).code).toBe('unprepared-topics');
    expect((error as Error).message).toContain(`a delivery for topics war was enqueued after this send prepared its briefings; run \`briefing send --resume --date ${EDITION}\``);
    const subjects = new Map(parseMail(server?.messages.map((received) => received.raw) ?? []).map((mail) => [mail.addresses.to?.[0]?.address, header(mail, 'subject')]));
    expect(subjects.get('talks1@example.com')).toBe('Briefing, 23 July 2025: Peace talks');
    expect(subjects.get('talks2@example.com')).toBe('Briefing, 23 July 2025: Peace talks');
    expect(subjects.get('all@example.com')).toBe('Briefing, 23 July 2025: Peace talks – Protests');
    expect(subjects.has('late@example.com')).toBe(false);
    const [late] = await store.listDeliveries({ editionId: EDITION, status: 'queued', limit: 10 });
    expect(late).toMatchObject({ address: 'late@example.com', lastReply: 'not sent: no briefing prepared for topics war' });
  });

  it('stops with a clear error, failing no delivery, when the server stops answering halfway; a resume sends the rest', async () => {
    await seed(300);
    await connect();
    const settings = { ...SETTINGS, maxAttempts: 2, timeoutMs: 300 };
    transport = createSmtpTransport(parseSmtpUrl(server!.url), { maxConnections: settings.concurrency, timeoutMs: settings.timeoutMs, logger });
    // Accepts 60 messages, then answers no command on any connection.
    void server!.arrivals(60).then(() => server!.setFaults({ stallRate: 1 }));
    const error = await sendEdition(dependencies({ settings }), { editionId: EDITION, templates: oneTemplate(template), enqueue: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect(String(error)).toMatch(/no reply within 300 ms \(smtp:\/\/127\.0\.0\.1:\d+ stopped answering; the send stops and can resume\).*send --resume/);
    const stopped = await store.deliveryCounts(EDITION);
    expect(stopped).toMatchObject({ failed: 0, sending: 0 });
    expect(stopped.sent).toBeGreaterThanOrEqual(60);
    expect(stopped.queued).toBe(300 - stopped.sent);

    server!.setFaults({ stallRate: 0 });
    await transport.close();
    transport = createSmtpTransport(parseSmtpUrl(server!.url), { maxConnections: settings.concurrency, timeoutMs: settings.timeoutMs, logger });
    const resumed = await sendEdition(dependencies({ settings }), { editionId: EDITION, templates: oneTemplate(template), enqueue: false });
    expect(resumed.counts).toEqual({ queued: 0, sending: 0, sent: 300, failed: 0, skipped: 0 });
  });

  it('stops with a clear error and leaves every delivery queued when the server cannot be reached', async () => {
    await seed(30);
    await connect();
    await server?.close();
    const error = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect(String(error)).toMatch(/^BriefingError: delivery: cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED .*send --resume/);
    expect(await store.deliveryCounts(EDITION)).toEqual({ queued: 30, sending: 0, sent: 0, failed: 0, skipped: 0 });

    // Resumed twice more during the outage: an outage uses up none of a message's attempts, so a
    // single 451 once the server is back is retried, not failed for good.
    for (let run = 0; run < 2; run += 1) {
      await expect(sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: false })).rejects.toThrow(/ECONNREFUSED/);
    }
    const queued = await store.listDeliveries({ editionId: EDITION, status: 'queued', limit: 100 });
    expect(queued.map((delivery) => delivery.attempts)).toEqual(Array.from({ length: 30 }, () => 0));
    await transport?.close();
    await connect();
    const resumed = await sendEdition(dependencies(), { editionId: EDITION, templates: oneTemplate(template), enqueue: false });
    expect(resumed).toMatchObject({ sent: 30, failed: 0, complete: true });
    const sent = await store.listDeliveries({ editionId: EDITION, status: 'sent', limit: 100 });
    expect(sent.map((delivery) => delivery.attempts)).toEqual(Array.from({ length: 30 }, () => 1));
  });
});
