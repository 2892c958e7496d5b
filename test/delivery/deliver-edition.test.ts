import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { deliverEdition, type DeliverEditionDependencies } from '../../src/delivery/deliver-edition.js';
import { createSmtpTransport } from '../../src/delivery/smtp-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { SECRET, sampleBriefing } from './fixtures.js';

const EDITION = '2025-07-23';
const logger = pino({ level: 'silent' });

let folder: string;
let store: Store;
let server: SmtpTestServer;

beforeEach(async () => {
  folder = mkdtempSync(path.join(tmpdir(), 'briefing-deliver-'));
  store = await openStoreAt({ kind: 'sqlite', file: path.join(folder, 'briefing.db') });
  server = await startSmtpTestServer();
  const now = new Date();
  await store.addSubscribers(
    [1, 2, 3].map((n) => ({ address: `reader${n}@example.com`, name: null, status: 'active' as const, source: 'test' })),
    now,
  );
  await store.createEdition({ id: EDITION, slot: now, status: 'planned', cutoff: now, subject: 'Briefing', note: null, memory: {} }, now);
});

afterEach(async () => {
  await server.close();
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

function dependencies(): DeliverEditionDependencies {
  const config = loadConfig('briefing.config.json', { BRIEFING_SECRET: SECRET, BRIEFING_SMTP_URL: server.url });
  return {
    config,
    store,
    createTransport: async () => createSmtpTransport(parseSmtpUrl(server.url), { maxConnections: 2, timeoutMs: 2000, logger }),
    dkim: undefined,
    clock: { now: () => new Date() },
    logger,
    interactive: false,
  };
}

/** Waits until `done()` holds, checking every few milliseconds; fails after 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (const started = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 5))) {
    if (Date.now() - started > 5000) throw new Error('timed out waiting');
  }
}

const briefingsFor = async (choices: readonly (readonly string[] | null)[]) => choices.map((topics) => ({ topics, briefing: sampleBriefing(EDITION) }));

describe('deliverEdition', () => {
  it('does the work before sending while its connections open, and sends nothing until that work is done', async () => {
    let seen: { messages: number; status: string | undefined } | undefined;
    const summary = await deliverEdition(dependencies(), {
      editionId: EDITION,
      briefingsFor,
      resume: false,
      // Returns only once the server has a connection: it would wait forever if they opened after it.
      beforeSending: async () => {
        await until(() => server.connections > 0);
        seen = { messages: server.messages.length, status: (await store.getEdition(EDITION))?.status };
      },
    });
    expect(seen).toEqual({ messages: 0, status: 'planned' });
    expect(summary).toMatchObject({ enqueued: 3, sent: 3, failed: 0, complete: true });
    expect(server.messages).toHaveLength(3);
  });

  it('enqueues and sends nothing, leaves the edition as it was and closes its connections when the work before sending fails', async () => {
    const attempt = deliverEdition(dependencies(), {
      editionId: EDITION,
      briefingsFor,
      resume: false,
      beforeSending: async () => {
        await until(() => server.connections > 0);
        throw new Error('no space left on device');
      },
    });
    await expect(attempt).rejects.toThrow('no space left on device');
    expect(await store.deliveryCounts(EDITION)).toMatchObject({ queued: 0, sending: 0, sent: 0, failed: 0 });
    expect((await store.getEdition(EDITION))?.status).toBe('planned');
    expect(server.messages).toHaveLength(0);
    // The connections opened for the send are closed, not left to the server's timeout.
    await until(() => server.openConnections === 0);
  });
});
