/**
 * A temporary publication for server tests: config in a temp dir (templates from the repository,
 * output/ and data/ inside the temp dir), a settable clock, and a logger whose lines can be read.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import type { Hono } from 'hono';
import { parseConfig, readEnvironment, type Config } from '../../src/config.js';
import { createDkimSigner } from '../../src/delivery/dkim.js';
import { createTransport } from '../../src/delivery/create-transport.js';
import { createApp } from '../../src/server/app.js';
import { buildDependencies } from '../../src/server/build-dependencies.js';
import type { ServerDependencies, ServerLimits } from '../../src/server/dependencies.js';
import { SERVER_SQLITE_OPTIONS } from '../../src/server/waiting-store.js';
import { openStore } from '../../src/store/open-store.js';
import { header, parseMail } from '../support/parse-mail.js';
import type { SmtpTestServer } from '../support/smtp-test-server.js';
import type { Store } from '../../src/store/store.js';

export const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
export const TEST_SECRET = 'server-test-secret-0123456789';

export interface TestPublication {
  dir: string;
  configFile: string;
  config: Config;
  output: string;
  cleanup(): void;
}

/** Writes a config like the repository's, with its own siteUrl, content, output and data folders. */
export function createPublication(
  options: { siteUrl?: string; smtpUrl?: string; content?: string; edition?: Record<string, unknown>; trustedProxies?: string } = {},
): TestPublication {
  const dir = mkdtempSync(path.join(tmpdir(), 'briefing-server-'));
  const base = JSON.parse(readFileSync(path.join(REPOSITORY, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  delete base.sampleSubscribers;
  const file = {
    ...base,
    siteUrl: options.siteUrl ?? 'https://briefing.example.org/',
    edition: { ...(base.edition as Record<string, unknown>), ...options.edition },
    paths: {
      content: options.content ?? path.join(REPOSITORY, 'content'),
      templates: path.join(REPOSITORY, 'templates'),
      output: 'output',
      data: 'data',
    },
  };
  const configFile = path.join(dir, 'briefing.config.json');
  writeFileSync(configFile, JSON.stringify(file, null, 2));
  mkdirSync(path.join(dir, 'output'));
  mkdirSync(path.join(dir, 'data'));
  const env = readEnvironment({
    BRIEFING_SECRET: TEST_SECRET,
    ...(options.smtpUrl ? { BRIEFING_SMTP_URL: options.smtpUrl } : {}),
    ...(options.trustedProxies ? { BRIEFING_TRUSTED_PROXIES: options.trustedProxies } : {}),
  });
  const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, env);
  return { dir, configFile, config, output: config.paths.output, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A clock the test moves by hand. */
export function testClock(start = new Date('2025-07-24T09:00:00Z')): { now(): Date; set(date: Date): void; advance(ms: number): void } {
  let current = start;
  return {
    now: () => current,
    set: (date) => {
      current = date;
    },
    advance: (ms) => {
      current = new Date(current.getTime() + ms);
    },
  };
}

/** A JSON logger whose records the test reads back. */
export function captureLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info', base: undefined }, stream), records };
}

/** The request log records (one per request). */
export function accessRecords(records: ReadonlyArray<Record<string, unknown>>): Array<Record<string, unknown>> {
  return records.filter((record) => record.msg === 'request');
}

/** The app of a publication on its real parts: SQLite store in data/, the configured transport. */
export interface TestServer {
  app: Hono;
  deps: ServerDependencies;
  store: Store;
  records: Array<Record<string, unknown>>;
  clock: ReturnType<typeof testClock>;
  close(): Promise<void>;
}

export async function openTestServer(publication: TestPublication, options: { limits?: Partial<ServerLimits> } = {}): Promise<TestServer> {
  const { logger, records } = captureLogger();
  const clock = testClock();
  const store = await openStore(publication.config, SERVER_SQLITE_OPTIONS);
  const transport = await createTransport(publication.config, 'confirmations', logger);
  const deps = buildDependencies({ config: publication.config, store, transport, dkim: dkimOf(publication.config), clock, logger, limits: options.limits });
  return {
    app: createApp(deps),
    deps,
    store,
    records,
    clock,
    close: async () => {
      await deps.tasks.close();
      await transport.close();
      await store.close().catch(() => undefined);
    },
  };
}

/** A request from a given client address, as the Node adapter would pass it. */
export function fromClient(remoteAddress: string): { incoming: { socket: { remoteAddress: string } } } {
  return { incoming: { socket: { remoteAddress } } };
}

/** One message as the SMTP server received it, read by Python's `email` package. */
export interface ReceivedMail {
  to: string;
  subject: string;
  headers: Record<string, string[]>;
  text: string;
}

/** The messages the SMTP test server accepted after the first `from`, parsed independently of our code. */
export function readMail(smtp: SmtpTestServer, from: number): ReceivedMail[] {
  return parseMail(smtp.messages.slice(from).map((message) => message.raw)).map((mail) => ({
    to: header(mail, 'to') ?? '',
    subject: header(mail, 'subject') ?? '',
    headers: mail.headers,
    text: mail.parts.map((part) => part.content).join('\n'),
  }));
}

/** The confirmation link in a message's text. */
export function confirmationLink(mail: { text: string }): string {
  const match = /https?:\/\/\S+\/confirm\?token=[A-Za-z0-9._%-]+/.exec(mail.text);
  if (!match) throw new Error(`no confirmation link in:\n${mail.text}`);
  return match[0];
}

/** The DKIM signer the composition root builds from the configuration (none when DKIM is not configured). */
export function dkimOf(config: Config): ReturnType<typeof createDkimSigner> | undefined {
  return config.env.dkim === undefined ? undefined : createDkimSigner(config.env.dkim);
}

/** A port free right now on 127.0.0.1: for tests whose site URL must be in the config before the server starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
