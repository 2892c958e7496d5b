import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { messageOptions } from '../../src/delivery/deliver-edition.js';
import { prepareMessage } from '../../src/delivery/message.js';
import { oneTemplate, sendEdition } from '../../src/delivery/send-edition.js';
import { createSmtpTransport } from '../../src/delivery/smtp-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import type { Transport } from '../../src/delivery/transport.js';
import { startFaultServer, type FaultServer } from './support/fault-smtp-server.js';
import { allDeliveries, createPublication, EDITION, subscriberOf, type Publication } from './support/publication.js';
import { hashedChance, scale, seededRandom, seeds } from './support/seeded.js';

/** The 5,000 deliveries in `npm test`; `npm run soak` sends 10,000 per seed, for three seeds. */
const DELIVERIES = scale(5000, 10_000);
const SEEDS = seeds(9001, scale(1, 3));
const SETTINGS: Config['delivery'] = {
  concurrency: 8,
  messagesPerSecond: 0,
  // High enough that no deliverable message runs out of attempts under these fault rates.
  maxAttempts: 25,
  retryBaseMs: 5,
  retryMaxMs: 50,
  leaseSeconds: 120,
  batchSize: 200,
  recordBatch: 16,
  // The client's command timeout: each stall costs a connection this long. Server and client share
  // this process's event loop, so a much shorter one could expire while a busy loop has the 250
  // waiting: a client-side race that is not the server's fault.
  timeoutMs: 2000,
};
const logger = pino({ level: 'silent' });

let publication: Publication | undefined;
let server: FaultServer | undefined;
let transport: Transport | undefined;

afterEach(async () => {
  await transport?.close();
  await server?.close();
  await publication?.cleanup();
  transport = undefined;
  server = undefined;
  publication = undefined;
});

describe('sendEdition through an SMTP server that resets, stalls and refuses', () => {
  it.each(SEEDS)(
    `seed %i: every deliverable message of ${DELIVERIES} is accepted exactly once (but for raced acceptances), the rest fail with the reply that failed them`,
    async (seed) => {
      publication = await createPublication({ subscribers: DELIVERIES, configure: (config) => (config.delivery = SETTINGS) });
      const address = (id: number): string => `reader${id}@example.com`;
      const ids = Array.from({ length: DELIVERIES }, (_, index) => index + 1);
      // About 1% unknown users and 0.5% mailboxes too small for the message, fixed by the seed.
      const unknownUsers = new Set(ids.filter((id) => hashedChance(seed, 'unknown', id) < 0.01).map(address));
      const oversized = new Set(ids.filter((id) => !unknownUsers.has(address(id)) && hashedChance(seed, 'oversized', id) < 0.005).map(address));
      server = await startFaultServer({ seed, temporaryRate: 0.03, resetRate: 0.01, stallRate: 0.002, unknownUsers, oversized });
      transport = createSmtpTransport(parseSmtpUrl(server.url), { maxConnections: SETTINGS.concurrency, timeoutMs: SETTINGS.timeoutMs, logger });
      const template = prepareMessage(await publication.briefing(), messageOptions(publication.config, undefined));

      const summary = await sendEdition(
        {
          store: publication.store,
          transport,
          clock: { now: () => new Date() },
          settings: SETTINGS,
          secret: publication.config.env.secret,
          siteUrl: publication.config.siteUrl,
          logger,
          random: seededRandom(seed),
        },
        { editionId: EDITION, templates: oneTemplate(template), enqueue: true },
      );

      const refused = unknownUsers.size + oversized.size;
      expect(summary).toMatchObject({ complete: true, stopped: false, counts: { queued: 0, sending: 0, sent: DELIVERIES - refused, failed: refused } });
      // The faults really happened, at every stage.
      for (const kind of ['reset:greeting', 'reset:mail', 'reset:rcpt', 'reset:data', 'reset:dot', 'reset:accepted', 'stall:mail', '550', '552']) {
        expect(server.faults.get(kind) ?? 0, `${kind} faults in ${JSON.stringify([...server.faults])}`).toBeGreaterThan(0);
      }
      expect([...server.faults.keys()].filter((kind) => /^4\d\d:/.test(kind)).length).toBeGreaterThan(3);

      const acceptedBy = new Map<number, number>();
      for (const [messageId, count] of server.accepted) acceptedBy.set(subscriberOf(messageId), (acceptedBy.get(subscriberOf(messageId)) ?? 0) + count);
      const racedBy = new Map<number, number>();
      for (const [messageId, count] of server.raced) racedBy.set(subscriberOf(messageId), count);

      let duplicates = 0;
      for (const delivery of await allDeliveries(publication.store, EDITION)) {
        const to = delivery.address;
        const accepted = acceptedBy.get(delivery.subscriberId) ?? 0;
        if (unknownUsers.has(to) || oversized.has(to)) {
          // Failed with the server's own refusal, never accepted, never retried past it.
          expect(delivery.status, to).toBe('failed');
          expect(delivery.lastReply?.startsWith(server.refusals.get(to) ?? '?'), `${to}: ${delivery.lastReply}`).toBe(true);
          expect(accepted, to).toBe(0);
          const subscriber = await publication.store.getSubscriber(delivery.subscriberId);
          expect(subscriber?.status, to).toBe(unknownUsers.has(to) ? 'bounced' : 'active');
        } else {
          expect(delivery.status, `${to}: ${delivery.lastReply}`).toBe('sent');
          // Exactly once, but for copies the server took and then cut off before saying so.
          expect(accepted, to).toBeGreaterThanOrEqual(1);
          expect(accepted - 1, `${to} accepted ${accepted} times`).toBeLessThanOrEqual(racedBy.get(delivery.subscriberId) ?? 0);
          duplicates += accepted - 1;
        }
      }
      const racedTotal = [...server.raced.values()].reduce((sum, count) => sum + count, 0);
      console.info(
        `smtp faults seed ${seed}: ${DELIVERIES} deliveries, ${summary.counts.sent} sent, ${unknownUsers.size} failed 550, ${oversized.size} failed 552, ` +
          `${summary.retried} retries, ${server.connections} connections, ${racedTotal} raced acceptances → ${duplicates} duplicates; ` +
          `faults ${JSON.stringify(Object.fromEntries([...server.faults].sort()))}`,
      );
    },
    scale(120_000, 600_000),
  );
});
