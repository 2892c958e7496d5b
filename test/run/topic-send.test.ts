import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createSmtpTransport } from '../../src/delivery/smtp-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import { formatSendSummary } from '../../src/delivery/send-progress.js';
import { verifyToken } from '../../src/delivery/tokens.js';
import { mjmlRendererAhead, type MjmlRendererAhead } from '../../src/email/compile-mjml.js';
import { dryRunSend } from '../../src/run/dry-run.js';
import { loadContent } from '../../src/run/load-content.js';
import { openEdition } from '../../src/run/open-edition.js';
import { resolveTarget } from '../../src/run/open-slot-edition.js';
import type { RunContext } from '../../src/run/run-context.js';
import { sendToSubscribers, type SendReport } from '../../src/run/send.js';
import type { StoredEdition } from '../../src/run/stored-edition.js';
import { sendTestCopy } from '../../src/run/test-copy.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store, TopicChoice } from '../../src/store/store.js';
import { header, parseMail, type ParsedMail } from '../support/parse-mail.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { ROOT, SEED_EDITION, testConfig } from '../edition/fixtures.js';

/** After the seed edition's 21:00 Kyiv slot (18:00 UTC): the send is due, not early. */
const NOW = new Date('2025-07-23T20:00:00Z');

/** Sections matching no topic go to the general section ("Also in the news"). */
const HEATWAVE = `---
title: Heatwave closes schools in Odesa
published: 2025-07-23T10:00:00+03:00
source: Test Wire
---
Temperatures reached 38 degrees in Odesa on Wednesday, and the city opened cooling centres.
`;

/** A story of the front line only, so a reader of other topics must not see it. */
const DEPOT = `---
title: Fuel depot burns near Kharkiv
published: 2025-07-23T11:00:00+03:00
source: Test Wire
topics: [war]
---
A fuel depot burned through the night after a drone strike, officials said.
`;

/** Readers, in id order: each topic choice the send has to serve. */
const READERS: ReadonlyArray<{ address: string; topics: TopicChoice }> = [
  { address: 'protests1@example.com', topics: ['protests'] },
  { address: 'talks@example.com', topics: ['talks'] },
  { address: 'every@example.com', topics: null },
  { address: 'economy@example.com', topics: ['economy'] },
  { address: 'protests2@example.com', topics: ['protests'] },
  // Naming every configured topic reads the whole briefing, as null does.
  { address: 'listed@example.com', topics: ['economy', 'protests', 'talks', 'war'] },
];

let root: string;
let config: Config;
let server: SmtpTestServer;
let logLines: Array<{ msg: string; rendered?: number }>;

beforeEach(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'briefing-topic-send-'));
  const content = path.join(root, 'content');
  mkdirSync(content);
  for (const file of readdirSync(path.join(ROOT, 'content')).filter((name) => name.endsWith('.md'))) copyFileSync(path.join(ROOT, 'content', file), path.join(content, file));
  writeFileSync(path.join(content, '2025-07-23-heatwave.md'), HEATWAVE);
  writeFileSync(path.join(content, '2025-07-23-depot.md'), DEPOT);
  config = testConfig(
    (raw) => {
      // A topic with no news in the seed edition.
      (raw.topics as unknown[]).push({ id: 'economy', title: 'The economy', match: ['bond yields'] });
      (raw.paths as Record<string, string>).content = content;
    },
    { output: path.join(root, 'output'), data: path.join(root, 'data') },
  );
  server = await startSmtpTestServer({ keepRaw: true });
  logLines = [];
  const store = await openStore();
  try {
    await store.addSubscribers(READERS.map((reader) => ({ address: reader.address, status: 'active', source: 'test', topics: reader.topics })), NOW);
  } finally {
    await store.close();
  }
});

afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

function openStore(): Promise<Store> {
  return openStoreAt({ kind: 'sqlite', file: path.join(root, 'data', 'briefing.db') });
}

/** The real parts, as the composition root builds them, with the test's SMTP server and a log that can be read. */
function context(stopSignal: AbortSignal = new AbortController().signal, changes: Partial<Config['delivery']> = {}, mjml = mjmlRendererAhead(false)): RunContext {
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString('utf8')) as { msg: string });
      done();
    },
  });
  const logger = pino({ level: 'info' }, logStream);
  const used = { ...config, delivery: { ...config.delivery, ...changes } };
  return {
    config: () => used,
    clock: { now: () => NOW },
    logger,
    interactive: false,
    openStore: () => openStore(),
    createTransport: async () => createSmtpTransport(parseSmtpUrl(server.url), { maxConnections: used.delivery.concurrency, timeoutMs: 5000, logger }),
    dkim: () => undefined,
    mjml,
    stopSignal,
  };
}

/** The renderer a send is given, with what the send did with it: took it (to render), or released it (nothing to render). */
function watchedRenderer(): { mjml: MjmlRendererAhead; uses: string[] } {
  const uses: string[] = [];
  const real = mjmlRendererAhead(false);
  return {
    uses,
    mjml: {
      take: () => (uses.push('take'), real.take()),
      release: () => (uses.push('release'), real.release()),
    },
  };
}

const request = { date: SEED_EDITION, resume: false, replan: false, force: false, interactive: false };

/** Each recipient's message, parsed by Python's email package. */
function received(): Map<string, ParsedMail> {
  const mails = parseMail(server.messages.map((message) => message.raw));
  return new Map(server.messages.map((message, index) => [message.to[0] ?? '', mails[index] as ParsedMail]));
}

function part(mail: ParsedMail | undefined, type: 'text/html' | 'text/plain'): string {
  const found = mail?.parts.find((candidate) => candidate.type === type);
  if (found === undefined) throw new Error(`no ${type} part`);
  return found.content;
}

/** The section ids a message's HTML has headings for. */
function sectionsOf(mail: ParsedMail | undefined): string[] {
  return [...part(mail, 'text/html').matchAll(/<h2 id="section-([a-z-]+)"/g)].map((match) => match[1] ?? '');
}

/** The bytes a reader got with their own links and address made neutral: what every reader of a variant shares. */
function shared(body: string, address: string): string {
  return body.replace(/token=[A-Za-z0-9._-]+/g, 'token=T').replaceAll(address, 'ADDRESS');
}

function delivered(report: SendReport): Extract<SendReport, { kind: 'delivered' }> {
  if (report.kind !== 'delivered') throw new Error('expected a delivered edition');
  return report;
}

describe('sending by topic choice', () => {
  it('gives each reader only their sections, skips a choice with no news, and renders once per choice with content', async () => {
    const report = delivered(await sendToSubscribers(context(), request));

    const mails = received();
    expect([...mails.keys()].sort()).toEqual(['every@example.com', 'listed@example.com', 'protests1@example.com', 'protests2@example.com', 'talks@example.com']);
    expect(sectionsOf(mails.get('protests1@example.com'))).toEqual(['protests', 'general']);
    expect(sectionsOf(mails.get('protests2@example.com'))).toEqual(['protests', 'general']);
    expect(sectionsOf(mails.get('talks@example.com'))).toEqual(['talks', 'general']);
    expect(sectionsOf(mails.get('every@example.com'))).toEqual(['talks', 'protests', 'war', 'general']);
    expect(sectionsOf(mails.get('listed@example.com'))).toEqual(['talks', 'protests', 'war', 'general']);

    const protests = mails.get('protests1@example.com');
    for (const body of [part(protests, 'text/html'), part(protests, 'text/plain')]) {
      expect(body).toContain('Protests in Ukraine');
      expect(body).toContain('Heatwave closes schools in Odesa');
      expect(body).not.toContain('Peace talks');
      expect(body).not.toContain('On the front line');
      expect(body).not.toContain('Fuel depot burns near Kharkiv');
    }
    expect(part(mails.get('every@example.com'), 'text/plain')).toContain('Fuel depot burns near Kharkiv');
    // Each subject names its own topics.
    expect(header(protests as ParsedMail, 'subject')).toMatch(/: protests$/);
    expect(header(mails.get('talks@example.com') as ParsedMail, 'subject')).toMatch(/: peace talks$/);
    expect(header(mails.get('every@example.com') as ParsedMail, 'subject')).toMatch(/: peace talks, protests and the front line$/);
    // Two readers of one choice get the same briefing but for their own links.
    expect(shared(part(protests, 'text/html'), 'protests1@example.com')).toBe(shared(part(mails.get('protests2@example.com'), 'text/html'), 'protests2@example.com'));

    expect(report.summary.counts).toEqual({ queued: 0, sending: 0, sent: 5, failed: 0, skipped: 1 });
    expect(formatSendSummary(report.summary)).toContain(`Edition ${SEED_EDITION}: 5 sent, 0 failed, 1 skipped (nothing for their topics), 0 not yet sent`);
    const store = await openStore();
    try {
      const [skipped] = await store.listDeliveries({ editionId: SEED_EDITION, status: 'skipped', limit: 10 });
      expect(skipped).toMatchObject({ address: 'economy@example.com', status: 'skipped', lastReply: 'nothing for topics economy' });
    } finally {
      await store.close();
    }
    // Two renders for six readers: protests and talks; every topic is the edition's own briefing.
    expect(logLines.filter((line) => line.rendered !== undefined).map((line) => line.rendered)).toEqual([2]);
  });

  it('puts a signed preference link next to unsubscribe in every message, HTML and text', async () => {
    await sendToSubscribers(context(), request);
    const store = await openStore();
    try {
      for (const [address, mail] of received()) {
        const subscriber = await store.findSubscriber(address);
        for (const body of [part(mail, 'text/html'), part(mail, 'text/plain')]) {
          const token = /preferences\?token=([A-Za-z0-9._-]+)/.exec(body)?.[1];
          expect(verifyToken([config.env.secret], 'preferences', token, subscriber?.linkKey ?? '', NOW)).toMatchObject({ ok: true, subscriberId: subscriber?.id });
          // A preference token is no unsubscribe token.
          expect(verifyToken([config.env.secret], 'unsubscribe', token, subscriber?.linkKey ?? '', NOW)).toMatchObject({ ok: false });
        }
        expect(part(mail, 'text/plain')).toMatch(/Choose your topics or pause: https:\/\/briefing\.example\.org\/preferences\?token=/);
      }
      // The public web version carries no one's link.
      for (const file of ['index.html', 'briefing.txt']) {
        expect(readFileSync(path.join(root, 'output', 'editions', SEED_EDITION, file), 'utf8')).not.toMatch(/token=/);
      }
    } finally {
      await store.close();
    }
  });

  it('resumes a stopped send with the same bytes for a topic choice, rendered again from the stored edition', async () => {
    const stop = new AbortController();
    const firstRenderer = watchedRenderer();
    const first = context(stop.signal, { concurrency: 1, batchSize: 1, recordBatch: 1 }, firstRenderer.mjml);
    const waiting = server.arrivals(1);
    const stopped = sendToSubscribers(first, request);
    await waiting;
    stop.abort();
    const firstReport = delivered(await stopped);
    expect(firstReport.summary.stopped).toBe(true);
    // One connection: the message in flight and the one pipelined behind it finish; the rest waits.
    expect(server.messages.map((message) => message.to[0])).toEqual(['protests1@example.com', 'talks@example.com']);

    const resumedRenderer = watchedRenderer();
    const resumed = delivered(await sendToSubscribers(context(undefined, {}, resumedRenderer.mjml), { ...request, resume: true }));
    expect(resumed.summary.counts).toEqual({ queued: 0, sending: 0, sent: 5, failed: 0, skipped: 1 });
    // The first send planned the edition and rendered it with the renderer started ahead; the resumed
    // one found it stored and stopped that renderer unused.
    expect(firstRenderer.uses).toEqual(['take']);
    expect(resumedRenderer.uses).toEqual(['release']);
    const mails = received();
    for (const type of ['text/html', 'text/plain'] as const) {
      expect(shared(part(mails.get('protests2@example.com'), type), 'protests2@example.com')).toBe(shared(part(mails.get('protests1@example.com'), type), 'protests1@example.com'));
    }
  });

  it('sends an edition recorded before editions kept their sections: everyone gets the full briefing, and the log says why', async () => {
    const store = await openStore();
    try {
      const target = resolveTarget(config, NOW, SEED_EDITION);
      const opened = await openEdition({ config, store, articles: await loadContent(config), clock: { now: () => NOW } }, { target, stored: undefined, persist: false });
      if (opened.kind !== 'ready') throw new Error('expected content');
      const memory: StoredEdition = { version: 1, since: opened.window.since.toISOString(), memory: opened.edition?.memory ?? { told: {}, sent: {} }, outline: opened.outline, briefing: opened.briefing };
      await store.createEdition({ id: opened.id, slot: opened.slot, status: 'planned', cutoff: opened.window.until, subject: opened.briefing.subject, note: null, memory }, NOW);
    } finally {
      await store.close();
    }
    const report = delivered(await sendToSubscribers(context(), request));
    expect(report.summary.counts).toEqual({ queued: 0, sending: 0, sent: 6, failed: 0, skipped: 0 });
    for (const mail of received().values()) expect(sectionsOf(mail)).toEqual(['talks', 'protests', 'war', 'general']);
    expect(logLines.map((line) => line.msg)).toContain(`edition ${SEED_EDITION} was stored before editions kept their sections: every topic choice gets the full briefing`);
  });

  it('--dry-run counts who would get nothing for their topics', async () => {
    const report = await dryRunSend(context(), { date: SEED_EDITION, testCopy: false });
    expect(report).toMatchObject({ recipients: 5, nothingForTopics: 1, alreadySent: 0 });
  });

  it('--to a listed subscriber sends their own topics; a reader of topics with no news gets no test copy', async () => {
    const copy = await sendTestCopy(context(), { date: SEED_EDITION, to: 'talks@example.com' });
    expect(copy.kind).toBe('sent');
    const mail = received().get('talks@example.com');
    expect(sectionsOf(mail)).toEqual(['talks', 'general']);
    expect(header(mail as ParsedMail, 'subject')).toMatch(/^\[TEST\] .*: peace talks$/);

    const none = await sendTestCopy(context(), { date: SEED_EDITION, to: 'economy@example.com' });
    expect(none).toMatchObject({ kind: 'nothing-for-topics', message: `edition ${SEED_EDITION} has nothing for topics economy, the topics economy@example.com reads` });
    expect(server.messages).toHaveLength(1);
  });
});
