/**
 * The contract every Store backend passes (run by sqlite-store.test.ts and postgres-store.test.ts).
 * Times are injected (`at(seconds)`), never waited for.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BriefingError } from '../../src/errors.js';
import { openStoreAt } from '../../src/store/open-store.js';
import { refusesSignUp, type Delivery, type EditionRecord, type NewSubscriber, type Store } from '../../src/store/store.js';
import type { StoreFixture } from './store-fixtures.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const T0 = new Date('2025-07-23T04:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

function edition(id: string, slot: Date, overrides: Partial<Omit<EditionRecord, 'createdAt' | 'updatedAt'>> = {}): Omit<EditionRecord, 'createdAt' | 'updatedAt'> {
  return { id, slot, status: 'planned', cutoff: slot, subject: `Briefing ${id}`, note: null, memory: { told: [id] }, ...overrides };
}

function people(count: number, prefix = 'reader', status: NewSubscriber['status'] = 'active'): NewSubscriber[] {
  return Array.from({ length: count }, (_, i) => ({ address: `${prefix}${i}@example.org`, name: `Reader ${i}`, status, source: 'test' }));
}

async function idsOf(store: Store, addresses: readonly string[]): Promise<number[]> {
  const found = await Promise.all(addresses.map((address) => store.findSubscriber(address)));
  return found.map((subscriber) => subscriber!.id);
}

async function claimAll(store: Store, worker: string, editionId: string, now: Date, limit = 10): Promise<Delivery[]> {
  const all: Delivery[] = [];
  for (;;) {
    const batch = await store.claimDeliveries({ editionId, worker, limit, now, leaseUntil: new Date(now.getTime() + 60_000) });
    if (batch.length === 0) return all;
    all.push(...batch);
    await store.recordOutcomes(editionId, worker, batch.map((d) => ({ subscriberId: d.subscriberId, status: 'sent', reply: `250 ok ${worker}` })), now);
  }
}

/** Takes a store back from schema version 4 to 3 (what an older Briefing left), for the migration tests. */
const UNDO_MIGRATION_4 = [
  'DROP TABLE returned_mail;',
  'DROP INDEX subscribers_status_changed;',
  ...['topics', 'paused_at', 'status_reason', 'status_changed_at'].map((column) => `ALTER TABLE subscribers DROP COLUMN ${column};`),
  'ALTER TABLE deliveries DROP COLUMN topics;',
];

const SOFT_RULE = { softBounces: 3, windowMs: 7 * 86_400_000 };

/** Registers the shared Store contract for one backend. */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    const others: Store[] = [];
    /** A second instance on the same database, as another process would have. */
    const another = async (): Promise<Store> => {
      const opened = await openStoreAt(fixture.location);
      others.push(opened);
      return opened;
    };

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await Promise.all(others.splice(0).map((other) => other.close()));
      await fixture.cleanup();
    });

    describe('subscribers', () => {
      it('adds, then merges on the same address with the domain in any case', async () => {
        expect(await store.addSubscribers([{ address: 'Olena@Example.ORG', name: 'Olena', status: 'active', source: 'cli' }], at(0))).toEqual([
          'created',
        ]);
        const outcomes = await store.addSubscribers(
          [
            { address: 'Olena@example.org', status: 'active', source: 'cli' },
            { address: 'Olena@EXAMPLE.org', name: 'Olena K.', status: 'active', source: 'cli' },
            { address: 'olena@example.org', status: 'active', source: 'cli' },
          ],
          at(10),
        );
        // RFC 5321 lets a server treat `olena` and `Olena` apart, but no mailbox provider does: one person.
        expect(outcomes).toEqual(['unchanged', 'updated', 'unchanged']);
        const olena = await store.findSubscriber('Olena@EXAMPLE.ORG');
        expect(olena).toMatchObject({ address: 'Olena@example.org', name: 'Olena K.', status: 'active', source: 'cli' });
        expect(olena?.createdAt).toEqual(at(0));
        expect(olena?.confirmedAt).toEqual(at(0));
        expect(await store.countSubscribers()).toBe(1);
      });

      it('treats Reader.One@Example.org as reader.one@example.org: one subscriber, updated, shown as first typed', async () => {
        await store.addSubscribers([{ address: 'reader.one@example.org', status: 'active', source: 'cli' }], at(0));
        expect(await store.addSubscribers([{ address: 'Reader.One@Example.org', name: 'Reader One', status: 'active', source: 'cli' }], at(1))).toEqual(['updated']);
        expect(await store.importSubscribers((async function* () {
          yield [{ address: 'READER.ONE@EXAMPLE.ORG', status: 'active' as const, source: 'import' }];
        })(), at(2))).toMatchObject({ created: 0, unchanged: 1 });
        expect(await store.countSubscribers()).toBe(1);
        expect(await store.findSubscriber('rEaDeR.oNe@example.ORG')).toMatchObject({ address: 'reader.one@example.org', name: 'Reader One' });
      });

      it('gives every subscriber a random link key of its own', async () => {
        await store.addSubscribers(people(20), at(0));
        const keys = (await store.listSubscribers({ limit: 100 })).map((subscriber) => subscriber.linkKey);
        expect(keys).toHaveLength(20);
        expect(new Set(keys).size).toBe(20);
        for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{22,}$/);
        const [first] = await idsOf(store, ['reader0@example.org']);
        expect((await store.getSubscriber(first!))?.linkKey).toBe(keys[0]);
        await store.createEdition(edition('2025-07-23', at(0)), at(0));
        await store.enqueueDeliveries('2025-07-23', at(0));
        const claimed = await store.claimDeliveries({ editionId: '2025-07-23', worker: 'w', limit: 1, now: at(0), leaseUntil: at(60) });
        expect(claimed[0]?.linkKey).toBe(keys[0]);
      });

      it('migration 3 gives old rows link keys and merges addresses that differ in case into the oldest, suppression winning', async () => {
        await store.addSubscribers(
          [
            { address: 'dup-a@example.org', name: 'Oldest', status: 'active', source: 'cli', createdAt: at(0) },
            { address: 'dup-b@example.org', status: 'unsubscribed', source: 'cli', createdAt: at(5), unsubscribedAt: at(6) },
            { address: 'dup-c@example.org', status: 'active', source: 'cli', createdAt: at(10) },
            { address: 'pair-a@example.org', status: 'active', source: 'cli', createdAt: at(20) },
            { address: 'pair-b@example.org', status: 'pending', source: 'web', createdAt: at(3) },
            { address: 'solo@example.org', status: 'active', source: 'cli', createdAt: at(0) },
          ],
          at(30),
        );
        const [oldest, , , , pairOldest, solo] = await idsOf(store, ['dup-a@example.org', 'dup-b@example.org', 'dup-c@example.org', 'pair-a@example.org', 'pair-b@example.org', 'solo@example.org']);
        const respell = (from: string, to: string): string => `UPDATE subscribers SET address = '${to}', address_key = '${to}' WHERE address_key = '${from}';`;
        // The store as schema version 2 left it: no link keys, keys that kept the local part's case.
        await fixture.exec(
          [
            respell('dup-a@example.org', 'Dup@example.org'),
            respell('dup-b@example.org', 'dup@example.org'),
            respell('dup-c@example.org', 'DUP@example.org'),
            respell('pair-a@example.org', 'Pair.Me@example.org'),
            respell('pair-b@example.org', 'pair.me@example.org'),
            'ALTER TABLE subscribers DROP COLUMN link_key;',
            ...UNDO_MIGRATION_4,
            'DELETE FROM schema_migrations WHERE version >= 3;',
          ].join('\n'),
        );
        const migrated = await another();
        expect(await fixture.appliedMigrations()).toContain(3);
        expect(await migrated.countSubscribers()).toBe(3);
        expect(await migrated.findSubscriber('dup@EXAMPLE.org')).toMatchObject({ id: oldest, address: 'Dup@example.org', name: 'Oldest', status: 'unsubscribed', unsubscribedAt: at(6) });
        expect(await migrated.findSubscriber('PAIR.ME@example.org')).toMatchObject({ id: pairOldest, address: 'pair.me@example.org', status: 'pending' });
        expect((await migrated.getSubscriber(solo!))?.status).toBe('active');
        const keys = (await migrated.listSubscribers({ limit: 10 })).map((subscriber) => subscriber.linkKey);
        expect(new Set(keys).size).toBe(3);
        for (const key of keys) expect(key.length).toBeGreaterThanOrEqual(16);
        // The merged spellings are one subscriber from now on.
        expect(await migrated.addSubscribers([{ address: 'DuP@example.org', status: 'active', source: 'cli' }], at(40))).toEqual(['kept-unsubscribed']);
      });

      it('stores international domains in their ASCII form and finds them by either form', async () => {
        await store.addSubscribers([{ address: 'пошта@Приклад.укр', status: 'active', source: 'cli' }], at(0));
        const found = await store.findSubscriber('пошта@xn--80aikifvh.xn--j1amh');
        expect(found?.address).toBe('пошта@xn--80aikifvh.xn--j1amh');
        expect((await store.findSubscriber('пошта@приклад.укр'))?.id).toBe(found?.id);
      });

      it('refuses an invalid address with a store error and writes nothing of the batch', async () => {
        const batch: NewSubscriber[] = [
          { address: 'good@example.org', status: 'active', source: 'cli' },
          { address: 'bad\r\nBcc: victim@example.org', status: 'active', source: 'cli' },
        ];
        await expect(store.addSubscribers(batch, at(0))).rejects.toThrow(BriefingError);
        expect(await store.countSubscribers()).toBe(0);
        expect(await store.findSubscriber('not an address')).toBeUndefined();
      });

      it('moves pending to active but never active back to pending', async () => {
        await store.addSubscribers([{ address: 'p@example.org', status: 'pending', source: 'web' }], at(0));
        expect((await store.findSubscriber('p@example.org'))?.confirmedAt).toBeNull();
        expect(await store.addSubscribers([{ address: 'p@example.org', status: 'active', source: 'import' }], at(5))).toEqual(['updated']);
        expect(await store.findSubscriber('p@example.org')).toMatchObject({ status: 'active', confirmedAt: at(5), source: 'web' });
        expect(await store.addSubscribers([{ address: 'p@example.org', status: 'pending', source: 'web' }], at(9))).toEqual(['unchanged']);
        expect((await store.findSubscriber('p@example.org'))?.status).toBe('active');
      });

      it.each(['unsubscribed', 'bounced'] as const)('never re-activates a %s address', async (status) => {
        await store.addSubscribers([{ address: 'gone@example.org', name: 'Gone', status: 'active', source: 'cli' }], at(0));
        const [id] = await idsOf(store, ['gone@example.org']);
        expect(await store.setSubscriberStatus(id!, status, at(1), 'test')).toBe(true);
        const outcomes = await store.addSubscribers(
          [
            { address: 'gone@EXAMPLE.org', name: 'New name', status: 'active', source: 'import' },
            { address: 'gone@example.org', status: 'pending', source: 'web' },
          ],
          at(2),
        );
        expect(outcomes).toEqual(['kept-unsubscribed', 'kept-unsubscribed']);
        expect(await store.getSubscriber(id!)).toMatchObject({ status, name: 'Gone' });
      });

      it('imports an unsubscribed address as a suppression entry and keeps given times', async () => {
        const outcomes = await store.addSubscribers(
          [{ address: 'old@example.org', status: 'unsubscribed', source: 'export', createdAt: at(-100), confirmedAt: at(-90), unsubscribedAt: at(-50) }],
          at(0),
        );
        expect(outcomes).toEqual(['created']);
        expect(await store.findSubscriber('old@example.org')).toMatchObject({
          status: 'unsubscribed',
          createdAt: at(-100),
          confirmedAt: at(-90),
          unsubscribedAt: at(-50),
        });
      });

      it('stamps confirmation and unsubscription times on status changes', async () => {
        await store.addSubscribers([{ address: 's@example.org', status: 'pending', source: 'web' }], at(0));
        const [id] = await idsOf(store, ['s@example.org']);
        await store.setSubscriberStatus(id!, 'active', at(10), 'test');
        await store.setSubscriberStatus(id!, 'active', at(20), 'test');
        expect(await store.getSubscriber(id!)).toMatchObject({ status: 'active', confirmedAt: at(10), unsubscribedAt: null });
        await store.setSubscriberStatus(id!, 'unsubscribed', at(30), 'test');
        expect(await store.getSubscriber(id!)).toMatchObject({ status: 'unsubscribed', confirmedAt: at(10), unsubscribedAt: at(30) });
        expect(await store.setSubscriberStatus(999_999, 'active', at(40), 'test')).toBe(false);
      });

      it('lists in keyset pages and counts by status', async () => {
        await store.addSubscribers([...people(23), ...people(4, 'waiting', 'pending')], at(0));
        const seen: string[] = [];
        let afterId: number | undefined;
        for (;;) {
          const page = await store.listSubscribers({ status: 'active', afterId, limit: 10 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(10);
          seen.push(...page.map((s) => s.address));
          afterId = page.at(-1)!.id;
        }
        expect(seen).toEqual(people(23).map((p) => p.address));
        expect((await store.listSubscribers({ limit: 100 })).length).toBe(27);
        expect(await store.countSubscribers()).toBe(27);
        expect(await store.countSubscribers('active')).toBe(23);
        expect(await store.countSubscribers('pending')).toBe(4);
        expect(await store.countSubscribers('bounced')).toBe(0);
      });

      it('removes a subscriber with their deliveries', async () => {
        await store.addSubscribers(people(2), at(0));
        await store.createEdition(edition('2025-07-23', at(0)), at(0));
        expect(await store.enqueueDeliveries('2025-07-23', at(0))).toBe(2);
        const [id] = await idsOf(store, ['reader0@example.org']);
        expect(await store.removeSubscriber(id!)).toBe(true);
        expect(await store.removeSubscriber(id!)).toBe(false);
        expect(await store.getSubscriber(id!)).toBeUndefined();
        expect(await store.deliveryCounts('2025-07-23')).toEqual({ queued: 1, sending: 0, sent: 0, failed: 0, skipped: 0 });
      });

      it('imports a stream of batches, a transaction each, merging duplicates across batches', async () => {
        await store.addSubscribers([{ address: 'left@example.org', status: 'unsubscribed', source: 'web' }], at(0));
        async function* batches(): AsyncGenerator<NewSubscriber[]> {
          yield people(3);
          yield [...people(2), { address: 'left@example.org', status: 'active', source: 'import' }];
          yield [{ address: 'reader0@example.org', name: 'Renamed', status: 'active', source: 'import' }];
        }
        expect(await store.importSubscribers(batches(), at(1))).toEqual({ created: 3, updated: 1, unchanged: 2, 'kept-unsubscribed': 1 });
        expect((await store.findSubscriber('reader0@example.org'))?.name).toBe('Renamed');
        expect((await store.findSubscriber('left@example.org'))?.status).toBe('unsubscribed');
      });

      it('a long import holds the write lock one batch at a time: another process writes between batches', async () => {
        const other = await another();
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (release = resolve));
        async function* batches(): AsyncGenerator<NewSubscriber[]> {
          yield people(3);
          await gate;
          yield people(2, 'late');
        }
        const importing = store.importSubscribers(batches(), at(0));
        try {
          // The first batch is committed (another connection sees it) while the import waits for its next one.
          for (let tries = 0; (await other.countSubscribers()) < 3; tries += 1) {
            if (tries > 200) throw new Error('the first batch of the import was never committed');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          const started = performance.now();
          expect(await other.addSubscribers([{ address: 'beside@example.org', status: 'active', source: 'web' }], at(1))).toEqual(['created']);
          expect(performance.now() - started).toBeLessThan(2000);
        } finally {
          release();
        }
        expect(await importing).toMatchObject({ created: 5 });
        expect(await store.countSubscribers()).toBe(6);
      });

      it('keeps the batches written before a stream fails part way, and nothing of the failing one', async () => {
        async function* failing(): AsyncGenerator<NewSubscriber[]> {
          yield people(5);
          yield [...people(3, 'second'), { address: 'bad\r\nBcc: victim@example.org', status: 'active', source: 'import' }];
          throw new Error('disk went away');
        }
        await expect(store.importSubscribers(failing(), at(0))).rejects.toThrow(BriefingError);
        expect(await store.countSubscribers()).toBe(5);
        async function* dying(): AsyncGenerator<NewSubscriber[]> {
          yield people(2, 'third');
          throw new Error('disk went away');
        }
        await expect(store.importSubscribers(dying(), at(0))).rejects.toThrow('disk went away');
        expect(await store.countSubscribers()).toBe(7);
        // The store is still usable afterwards.
        expect(await store.addSubscribers(people(1, 'after'), at(1))).toEqual(['created']);
      });
    });

    describe('editions', () => {
      it('creates once, keeps the planner memory, lists newest first', async () => {
        expect(await store.createEdition(edition('2025-07-22', at(-86_400)), at(0))).toBe(true);
        expect(await store.createEdition(edition('2025-07-23', at(0), { memory: { keys: ['a', 'b'], n: 2 } }), at(1))).toBe(true);
        expect(await store.createEdition(edition('2025-07-23', at(0), { subject: 'second try' }), at(2))).toBe(false);
        const got = await store.getEdition('2025-07-23');
        expect(got).toMatchObject({ subject: 'Briefing 2025-07-23', memory: { keys: ['a', 'b'], n: 2 }, createdAt: at(1), updatedAt: at(1) });
        expect((await store.listEditions(10)).map((e) => e.id)).toEqual(['2025-07-23', '2025-07-22']);
        expect(await store.listEditions(1)).toHaveLength(1);
        expect(await store.getEdition('1999-01-01')).toBeUndefined();
      });

      it('sets status and note; undefined keeps the note, null clears it', async () => {
        await store.createEdition(edition('e1', at(0)), at(0));
        await store.setEditionStatus('e1', 'skipped', at(5), 'nothing new');
        expect(await store.getEdition('e1')).toMatchObject({ status: 'skipped', note: 'nothing new', updatedAt: at(5) });
        await store.setEditionStatus('e1', 'sending', at(6));
        expect(await store.getEdition('e1')).toMatchObject({ status: 'sending', note: 'nothing new' });
        await store.setEditionStatus('e1', 'sent', at(7), null);
        expect(await store.getEdition('e1')).toMatchObject({ status: 'sent', note: null });
      });

      it('finds the previous sent or sending edition before a time', async () => {
        await store.createEdition(edition('d1', at(-3 * 86_400), { status: 'sent' }), at(0));
        await store.createEdition(edition('d2', at(-2 * 86_400), { status: 'skipped' }), at(0));
        await store.createEdition(edition('d3', at(-86_400), { status: 'sending' }), at(0));
        await store.createEdition(edition('d4', at(0), { status: 'planned' }), at(0));
        expect((await store.previousEdition(at(1)))?.id).toBe('d3');
        expect((await store.previousEdition(at(-86_400)))?.id).toBe('d1');
        expect(await store.previousEdition(at(-3 * 86_400))).toBeUndefined();
      });

      it('reopens an unsent edition (its queued and failed deliveries go with it) but never one with a delivery sent or sending', async () => {
        await store.addSubscribers(people(3), at(0));
        await store.createEdition(edition('skipped', at(0), { status: 'skipped' }), at(0));
        expect(await store.reopenEdition('skipped')).toBe(true);
        expect(await store.getEdition('skipped')).toBeUndefined();
        expect(await store.reopenEdition('skipped')).toBe(false);
        await store.createEdition(edition('queued', at(0), { status: 'sending' }), at(0));
        await store.enqueueDeliveries('queued', at(1));
        expect(await store.reopenEdition('queued')).toBe(true);
        expect(await store.deliveryCounts('queued')).toEqual({ queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 });
        await store.createEdition(edition('claimed', at(0), { status: 'sending' }), at(0));
        await store.enqueueDeliveries('claimed', at(1));
        const [first] = await store.claimDeliveries({ editionId: 'claimed', worker: 'w1', limit: 1, now: at(2), leaseUntil: at(62) });
        expect(await store.reopenEdition('claimed')).toBe(false);
        await store.recordOutcomes('claimed', 'w1', [{ subscriberId: first!.subscriberId, status: 'sent', reply: '250 ok' }], at(3));
        expect(await store.reopenEdition('claimed')).toBe(false);
        expect(await store.getEdition('claimed')).toBeDefined();
      });

      it('lets exactly one of two racing store instances create an edition', async () => {
        const second = await another();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : second).createEdition(edition('race', at(0), { subject: `by ${i}` }), at(i))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await second.getEdition('race'))?.subject).toBe(`by ${winner}`);
      });
    });

    describe('outbox', () => {
      const E = '2025-07-23';
      beforeEach(async () => {
        await store.createEdition(edition(E, at(0)), at(0));
      });

      it('enqueues each active subscriber once, idempotently', async () => {
        await store.addSubscribers([...people(5), ...people(2, 'pending', 'pending')], at(0));
        await store.addSubscribers([{ address: 'left@example.org', status: 'unsubscribed', source: 'web' }], at(0));
        expect(await store.enqueueDeliveries(E, at(1))).toBe(5);
        expect(await store.enqueueDeliveries(E, at(2))).toBe(0);
        await store.addSubscribers(people(1, 'late'), at(3));
        expect(await store.enqueueDeliveries(E, at(4))).toBe(1);
        expect(await store.deliveryCounts(E)).toEqual({ queued: 6, sending: 0, sent: 0, failed: 0, skipped: 0 });
        const queued = await store.listDeliveries({ editionId: E, limit: 100 });
        expect(queued.map((d) => d.address).sort()).toEqual([...people(5).map((p) => p.address), 'late0@example.org'].sort());
        expect(queued[0]).toMatchObject({ status: 'queued', attempts: 0, worker: null, leaseUntil: null, lastReply: null, notBefore: null });
      });

      it('claims in batches: sending, attempts + 1, worker and lease; never the same row twice', async () => {
        await store.addSubscribers(people(25), at(0));
        await store.enqueueDeliveries(E, at(0));
        const first = await store.claimDeliveries({ editionId: E, worker: 'w1', limit: 10, now: at(1), leaseUntil: at(61) });
        expect(first).toHaveLength(10);
        expect(first[0]).toMatchObject({ status: 'sending', attempts: 1, worker: 'w1', leaseUntil: at(61), editionId: E, name: 'Reader 0' });
        const second = await store.claimDeliveries({ editionId: E, worker: 'w2', limit: 100, now: at(2), leaseUntil: at(62) });
        expect(second).toHaveLength(15);
        const ids = [...first, ...second].map((d) => d.subscriberId);
        expect(new Set(ids).size).toBe(25);
        expect(await store.claimDeliveries({ editionId: E, worker: 'w3', limit: 10, now: at(3), leaseUntil: at(63) })).toEqual([]);
        expect(await store.sendingWorkers(E)).toEqual(['w1', 'w2']);
        expect(await store.deliveryCounts(E)).toEqual({ queued: 0, sending: 25, sent: 0, failed: 0, skipped: 0 });
      });

      it('never hands one delivery to two store instances claiming at once', async () => {
        await store.addSubscribers(people(150), at(0));
        await store.enqueueDeliveries(E, at(0));
        const second = await another();
        const [a, b] = await Promise.all([claimAll(store, 'worker-a', E, at(1), 7), claimAll(second, 'worker-b', E, at(1), 11)]);
        const ids = [...a, ...b].map((d) => d.subscriberId);
        expect(ids).toHaveLength(150);
        expect(new Set(ids).size).toBe(150);
        expect(await store.deliveryCounts(E)).toEqual({ queued: 0, sending: 0, sent: 150, failed: 0, skipped: 0 });
      });

      it('lets another worker take over rows whose lease expired, and only then', async () => {
        await store.addSubscribers(people(3), at(0));
        await store.enqueueDeliveries(E, at(0));
        await store.claimDeliveries({ editionId: E, worker: 'w1', limit: 10, now: at(0), leaseUntil: at(60) });
        expect(await store.claimDeliveries({ editionId: E, worker: 'w2', limit: 10, now: at(59), leaseUntil: at(120) })).toEqual([]);
        await store.renewLease(E, 'w1', at(90));
        expect(await store.claimDeliveries({ editionId: E, worker: 'w2', limit: 10, now: at(61), leaseUntil: at(120) })).toEqual([]);
        const taken = await store.claimDeliveries({ editionId: E, worker: 'w2', limit: 10, now: at(90), leaseUntil: at(150) });
        expect(taken.map((d) => [d.worker, d.attempts])).toEqual([
          ['w2', 2],
          ['w2', 2],
          ['w2', 2],
        ]);
        // The old holder's late outcomes change nothing; the new holder's do.
        await store.recordOutcomes(E, 'w1', taken.map((d) => ({ subscriberId: d.subscriberId, status: 'failed', reply: '550 late', bounce: true })), at(91));
        await store.recordOutcomes(E, 'w1', taken.map((d) => ({ subscriberId: d.subscriberId, status: 'sent', reply: '250 late' })), at(91));
        expect(await store.deliveryCounts(E)).toEqual({ queued: 0, sending: 3, sent: 0, failed: 0, skipped: 0 });
        expect(await store.countSubscribers('active')).toBe(3);
        await store.recordOutcomes(E, 'w2', taken.map((d) => ({ subscriberId: d.subscriberId, status: 'sent', reply: `250 ok ${d.subscriberId}` })), at(92));
        expect(await store.deliveryCounts(E)).toEqual({ queued: 0, sending: 0, sent: 3, failed: 0, skipped: 0 });
        // Each row keeps its own reply, also when a batch is recorded in one statement.
        expect((await store.listDeliveries({ editionId: E, limit: 10 })).map((d) => d.lastReply)).toEqual(taken.map((d) => `250 ok ${d.subscriberId}`));
      });

      it('takes over the rows of workers named dead before their lease ends', async () => {
        await store.addSubscribers(people(4), at(0));
        await store.enqueueDeliveries(E, at(0));
        await store.claimDeliveries({ editionId: E, worker: 'host-1', limit: 2, now: at(0), leaseUntil: at(600) });
        await store.claimDeliveries({ editionId: E, worker: 'host-2', limit: 2, now: at(0), leaseUntil: at(600) });
        const taken = await store.claimDeliveries({ editionId: E, worker: 'host-3', limit: 10, now: at(1), leaseUntil: at(600), deadWorkers: ['host-1'] });
        expect(taken).toHaveLength(2);
        expect(await store.sendingWorkers(E)).toEqual(['host-2', 'host-3']);
      });

      it('records outcomes: sent is final, retry waits for notBefore, a bounce marks the subscriber', async () => {
        await store.addSubscribers(people(4), at(0));
        await store.enqueueDeliveries(E, at(0));
        const claimed = await store.claimDeliveries({ editionId: E, worker: 'w', limit: 10, now: at(0), leaseUntil: at(60) });
        const [sent, retry, bounced, failed] = claimed.map((d) => d.subscriberId) as [number, number, number, number];
        await store.recordOutcomes(
          E,
          'w',
          [
            { subscriberId: sent, status: 'sent', reply: '250 2.0.0 queued as A1' },
            { subscriberId: retry, status: 'retry', reply: '451 4.7.1 try later', notBefore: at(30) },
            { subscriberId: bounced, status: 'failed', reply: '550 5.1.1 no such user', bounce: true },
            { subscriberId: failed, status: 'failed', reply: '554 5.7.1 message refused', bounce: false },
          ],
          at(1),
        );
        expect(await store.deliveryCounts(E)).toEqual({ queued: 1, sending: 0, sent: 1, failed: 2, skipped: 0 });
        expect((await store.getSubscriber(bounced))?.status).toBe('bounced');
        expect((await store.getSubscriber(failed))?.status).toBe('active');
        const [retried] = await store.listDeliveries({ editionId: E, status: 'queued', limit: 10 });
        expect(retried).toMatchObject({ subscriberId: retry, lastReply: '451 4.7.1 try later', notBefore: at(30), worker: null, attempts: 1 });

        expect(await store.claimDeliveries({ editionId: E, worker: 'w', limit: 10, now: at(29), leaseUntil: at(90) })).toEqual([]);
        const again = await store.claimDeliveries({ editionId: E, worker: 'w', limit: 10, now: at(30), leaseUntil: at(90) });
        expect(again.map((d) => [d.subscriberId, d.attempts])).toEqual([[retry, 2]]);

        // A message that was never tried (the run stopped, or the server could not work) gets its attempt back.
        await store.recordOutcomes(E, 'w', [{ subscriberId: retry, status: 'retry', reply: 'not tried: the send stopped', notBefore: at(30), untried: true }], at(31));
        const [given] = await store.listDeliveries({ editionId: E, status: 'queued', limit: 10 });
        expect(given).toMatchObject({ subscriberId: retry, lastReply: 'not tried: the send stopped', worker: null, attempts: 1 });
        const third = await store.claimDeliveries({ editionId: E, worker: 'w', limit: 10, now: at(32), leaseUntil: at(90) });
        expect(third.map((d) => [d.subscriberId, d.attempts])).toEqual([[retry, 2]]);

        // Status only moves forward: a sent row stays sent whatever is recorded for it later.
        await store.recordOutcomes(E, 'w', [{ subscriberId: sent, status: 'failed', reply: '550 oops', bounce: true }], at(31));
        const [stillSent] = await store.listDeliveries({ editionId: E, status: 'sent', limit: 10 });
        expect(stillSent).toMatchObject({ subscriberId: sent, lastReply: '250 2.0.0 queued as A1' });
        expect((await store.getSubscriber(sent))?.status).toBe('active');
      });

      it('drops the queued deliveries of someone who unsubscribes, imports as unsubscribed or bounces; sent ones stay', async () => {
        await store.addSubscribers(people(5), at(0));
        await store.enqueueDeliveries(E, at(0));
        const [first, second] = await store.claimDeliveries({ editionId: E, worker: 'w', limit: 2, now: at(1), leaseUntil: at(60) });
        await store.recordOutcomes(E, 'w', [{ subscriberId: first?.subscriberId ?? 0, status: 'sent', reply: '250 ok' }], at(2));
        const queued = await store.listDeliveries({ editionId: E, status: 'queued', limit: 10 });
        const [leaving, imported, other] = queued as [Delivery, Delivery, Delivery];

        expect(await store.setSubscriberStatus(leaving.subscriberId, 'unsubscribed', at(3), 'test')).toBe(true);
        await store.addSubscribers([{ address: imported.address, status: 'unsubscribed', source: 'import' }], at(4));
        // The sent row and the one in flight are history, not the outbox's to take back.
        expect(await store.setSubscriberStatus(first?.subscriberId ?? 0, 'unsubscribed', at(5), 'test')).toBe(true);
        expect(await store.setSubscriberStatus(second?.subscriberId ?? 0, 'unsubscribed', at(5), 'test')).toBe(true);
        expect(await store.deliveryCounts(E)).toEqual({ queued: 1, sending: 1, sent: 1, failed: 0, skipped: 0 });
        expect((await store.listDeliveries({ editionId: E, status: 'queued', limit: 10 })).map((d) => d.subscriberId)).toEqual([other.subscriberId]);

        // A bounce in one edition drops the address from the next edition's queue too.
        const NEXT = '2025-07-24';
        await store.createEdition(edition(NEXT, at(10)), at(10));
        await store.addSubscribers(people(1, 'fresh'), at(10));
        await store.enqueueDeliveries(NEXT, at(10));
        const [claimedOther] = await store.claimDeliveries({ editionId: E, worker: 'w', limit: 10, now: at(11), leaseUntil: at(70) });
        await store.recordOutcomes(E, 'w', [{ subscriberId: claimedOther?.subscriberId ?? 0, status: 'failed', reply: '550 5.1.1 gone', bounce: true }], at(12));
        expect((await store.listDeliveries({ editionId: NEXT, limit: 10 })).map((d) => d.address)).toEqual(['fresh0@example.org']);
      });

      it('lists deliveries in keyset pages by status', async () => {
        await store.addSubscribers(people(12), at(0));
        await store.enqueueDeliveries(E, at(0));
        const page1 = await store.listDeliveries({ editionId: E, limit: 5 });
        const page2 = await store.listDeliveries({ editionId: E, limit: 5, afterSubscriberId: page1.at(-1)!.subscriberId });
        const page3 = await store.listDeliveries({ editionId: E, limit: 5, afterSubscriberId: page2.at(-1)!.subscriberId });
        expect([page1.length, page2.length, page3.length]).toEqual([5, 5, 2]);
        expect(new Set([...page1, ...page2, ...page3].map((d) => d.subscriberId)).size).toBe(12);
        expect(await store.listDeliveries({ editionId: E, status: 'sent', limit: 5 })).toEqual([]);
        expect(await store.deliveryCounts('no-such-edition')).toEqual({ queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 });
      });

      it('refuses to enqueue for an edition that does not exist', async () => {
        await store.addSubscribers(people(1), at(0));
        await expect(store.enqueueDeliveries('1999-01-01', at(0))).rejects.toThrow();
      });
    });

    describe('topic choices and pauses', () => {
      const E = '2025-07-23';

      it('keeps every subscriber on every topic by default, stores a choice in one canonical form and replaces it on import', async () => {
        await store.addSubscribers(
          [
            { address: 'all@example.org', status: 'active', source: 'cli' },
            { address: 'some@example.org', status: 'active', source: 'cli', topics: ['war', 'talks', 'war'] },
          ],
          at(0),
        );
        expect((await store.findSubscriber('all@example.org'))?.topics).toBeNull();
        expect((await store.findSubscriber('some@example.org'))?.topics).toEqual(['talks', 'war']);
        expect(await store.addSubscribers([{ address: 'some@example.org', status: 'active', source: 'import', topics: ['protests'] }], at(1))).toEqual(['updated']);
        expect((await store.findSubscriber('some@example.org'))?.topics).toEqual(['protests']);
        // Without a topics value the stored choice stays.
        expect(await store.addSubscribers([{ address: 'some@example.org', status: 'active', source: 'import' }], at(2))).toEqual(['unchanged']);
        expect((await store.findSubscriber('some@example.org'))?.topics).toEqual(['protests']);
      });

      it('refuses an empty choice, a malformed topic id and an SQL-looking one, writing nothing', async () => {
        for (const topics of [[], ['Talks'], ["talks');DROP TABLE subscribers;--"], ['a,b']]) {
          await expect(store.addSubscribers([{ address: 'x@example.org', status: 'active', source: 'cli', topics }], at(0))).rejects.toThrow(BriefingError);
        }
        expect(await store.countSubscribers()).toBe(0);
      });

      it('sets topics and pauses from the preference page; a paused subscriber is not enqueued until resumed', async () => {
        await store.addSubscribers(people(3), at(0));
        const [first, second] = await idsOf(store, ['reader0@example.org', 'reader1@example.org']);
        expect(await store.setSubscriberPreferences(first!, { topics: ['talks'], paused: false }, at(1))).toBe(true);
        expect(await store.setSubscriberPreferences(second!, { topics: null, paused: true }, at(2))).toBe(true);
        expect(await store.setSubscriberPreferences(second!, { topics: null, paused: true }, at(5))).toBe(true);
        expect(await store.getSubscriber(second!)).toMatchObject({ topics: null, pausedAt: at(2), status: 'active' });
        await store.createEdition(edition(E, at(10)), at(10));
        expect(await store.enqueueDeliveries(E, at(10))).toBe(2);
        const deliveries = await store.listDeliveries({ editionId: E, limit: 10 });
        expect(deliveries.map((d) => [d.subscriberId, d.topics])).toEqual([
          [first, ['talks']],
          [deliveries[1]!.subscriberId, null],
        ]);
        expect(await store.setSubscriberPreferences(second!, { topics: ['protests', 'talks'], paused: false }, at(11))).toBe(true);
        expect((await store.getSubscriber(second!))?.pausedAt).toBeNull();
        expect(await store.enqueueDeliveries(E, at(12))).toBe(1);
        expect(await store.deliveryTopicChoices(E)).toEqual(expect.arrayContaining([null, ['talks'], ['protests', 'talks']]));
        expect(await store.deliveryTopicChoices(E)).toHaveLength(3);
      });

      it('refuses preferences for an address that left, and for an unknown id', async () => {
        await store.addSubscribers([{ address: 'gone@example.org', status: 'unsubscribed', source: 'cli' }], at(0));
        const [gone] = await idsOf(store, ['gone@example.org']);
        expect(await store.setSubscriberPreferences(gone!, { topics: ['talks'], paused: false }, at(1))).toBe(false);
        expect(await store.setSubscriberPreferences(999_999, { topics: null, paused: false }, at(1))).toBe(false);
        expect((await store.getSubscriber(gone!))?.topics).toBeNull();
      });

      it('keeps a delivery to the topics chosen when it was enqueued, and skips the queued ones of one choice', async () => {
        await store.addSubscribers([...people(2), ...people(2, 'talks').map((p) => ({ ...p, topics: ['talks'] }))], at(0));
        await store.createEdition(edition(E, at(1)), at(1));
        await store.enqueueDeliveries(E, at(1));
        const [talker] = await idsOf(store, ['talks0@example.org']);
        await store.setSubscriberPreferences(talker!, { topics: ['war'], paused: false }, at(2));
        expect(await store.skipDeliveries(E, ['talks'], 'nothing for topics talks', at(3))).toBe(2);
        expect(await store.skipDeliveries(E, ['war'], 'nothing for topics war', at(3))).toBe(0);
        expect(await store.deliveryCounts(E)).toEqual({ queued: 2, sending: 0, sent: 0, failed: 0, skipped: 2 });
        expect(await store.deliveryTopicChoices(E)).toEqual([null]);
        const skipped = await store.listDeliveries({ editionId: E, status: 'skipped', limit: 10 });
        expect(skipped.map((d) => d.lastReply)).toEqual(['nothing for topics talks', 'nothing for topics talks']);
        // Skipped rows are finished: nothing claims them, and enqueueing again adds none.
        expect((await claimAll(store, 'w', E, at(4))).map((d) => d.topics)).toEqual([null, null]);
        expect(await store.enqueueDeliveries(E, at(5))).toBe(0);
      });
    });

    describe('status reasons and returned mail', () => {
      const E = '2025-07-23';

      it('records why and when a status changed, and lists the latest changes first', async () => {
        await store.addSubscribers(people(3), at(0));
        const [a, b] = await idsOf(store, ['reader0@example.org', 'reader1@example.org']);
        await store.setSubscriberStatus(a!, 'unsubscribed', at(5), 'unsubscribe link');
        await store.setSubscriberStatus(b!, 'unsubscribed', at(9), 'briefing subscribers\r\nunsubscribe');
        expect(await store.getSubscriber(a!)).toMatchObject({ statusReason: 'unsubscribe link', statusChangedAt: at(5) });
        // One line, whatever the caller gave.
        expect((await store.getSubscriber(b!))?.statusReason).toBe('briefing subscribers unsubscribe');
        expect((await store.recentStatusChanges(10)).map((s) => s.id)).toEqual([b, a]);
        await store.addSubscribers([{ address: 'reader2@example.org', status: 'unsubscribed', source: 'import:list.csv' }], at(12));
        expect((await store.findSubscriber('reader2@example.org'))?.statusReason).toBe('import:list.csv');
      });

      it('says why a refusal at RCPT bounced an address', async () => {
        await store.addSubscribers(people(1), at(0));
        await store.createEdition(edition(E, at(0)), at(0));
        await store.enqueueDeliveries(E, at(0));
        const [delivery] = await store.claimDeliveries({ editionId: E, worker: 'w', limit: 1, now: at(1), leaseUntil: at(60) });
        await store.recordOutcomes(E, 'w', [{ subscriberId: delivery!.subscriberId, status: 'failed', reply: '550 5.1.1 no such user', bounce: true }], at(2));
        expect(await store.getSubscriber(delivery!.subscriberId)).toMatchObject({ status: 'bounced', statusReason: 'refused: 550 5.1.1 no such user', statusChangedAt: at(2) });
      });

      it('a hard bounce bounces once; the same report again is a repeat; an unknown subscriber changes nothing', async () => {
        await store.addSubscribers(people(2), at(0));
        const [id, other] = await idsOf(store, ['reader0@example.org', 'reader1@example.org']);
        await store.createEdition(edition(E, at(0)), at(0));
        await store.enqueueDeliveries(E, at(0));
        const mail = { key: '<dsn-1@mx.example>', subscriberId: id!, editionId: E, kind: 'hard-bounce' as const, detail: '5.1.1 user unknown' };
        expect(await store.recordReturn(mail, SOFT_RULE, at(10))).toEqual({ recorded: true, status: 'bounced', changed: true, softBounces: 0 });
        expect(await store.getSubscriber(id!)).toMatchObject({ status: 'bounced', statusReason: 'hard bounce: 5.1.1 user unknown', statusChangedAt: at(10) });
        expect((await store.listDeliveries({ editionId: E, limit: 10 })).map((d) => d.subscriberId)).toEqual([other]);
        expect(await store.recordReturn(mail, SOFT_RULE, at(11))).toEqual({ recorded: false, reason: 'repeat' });
        expect(await store.recordReturn({ ...mail, key: 'k2', subscriberId: 999_999 }, SOFT_RULE, at(11))).toEqual({ recorded: false, reason: 'unknown-subscriber' });
        expect((await store.getSubscriber(other!))?.status).toBe('active');
      });

      it('a complaint and a mailto unsubscribe unsubscribe; an address that left stays as it left', async () => {
        await store.addSubscribers(people(2), at(0));
        const [a, b] = await idsOf(store, ['reader0@example.org', 'reader1@example.org']);
        expect(await store.recordReturn({ key: 'arf-1', subscriberId: a!, editionId: E, kind: 'complaint', detail: 'Feedback-Type: abuse' }, SOFT_RULE, at(1))).toMatchObject({ status: 'unsubscribed', changed: true });
        expect(await store.getSubscriber(a!)).toMatchObject({ status: 'unsubscribed', statusReason: 'complaint: Feedback-Type: abuse', unsubscribedAt: at(1) });
        expect(await store.recordReturn({ key: 'mailto-1', subscriberId: b!, editionId: null, kind: 'unsubscribe', detail: '' }, SOFT_RULE, at(2))).toMatchObject({ status: 'unsubscribed', changed: true });
        expect((await store.getSubscriber(b!))?.statusReason).toBe('mailto unsubscribe');
        expect(await store.recordReturn({ key: 'dsn-late', subscriberId: a!, editionId: E, kind: 'hard-bounce', detail: '5.1.1' }, SOFT_RULE, at(3))).toEqual({ recorded: true, status: 'unsubscribed', changed: false, softBounces: 0 });
        expect((await store.getSubscriber(a!))?.statusReason).toBe('complaint: Feedback-Type: abuse');
      });

      it('an address that left by itself and is then reported as spam or as a dead mailbox is marked so, for the sign-up form', async () => {
        await store.addSubscribers(people(2), at(0));
        const [a, b] = await idsOf(store, ['reader0@example.org', 'reader1@example.org']);
        for (const id of [a!, b!]) await store.setSubscriberStatus(id, 'unsubscribed', at(1), 'unsubscribe link');
        expect(await store.recordReturn({ key: 'arf-late', subscriberId: a!, editionId: E, kind: 'complaint', detail: 'Feedback-Type: abuse' }, SOFT_RULE, at(2))).toMatchObject({ status: 'unsubscribed', changed: true });
        expect(await store.getSubscriber(a!)).toMatchObject({ status: 'unsubscribed', statusReason: 'complaint: Feedback-Type: abuse', unsubscribedAt: at(1) });
        expect(await store.recordReturn({ key: 'dsn-late-b', subscriberId: b!, editionId: E, kind: 'hard-bounce', detail: '5.1.1' }, SOFT_RULE, at(3))).toMatchObject({ status: 'bounced', changed: true });
        expect(refusesSignUp((await store.getSubscriber(a!))!)).toBe(true);
        expect(refusesSignUp((await store.getSubscriber(b!))!)).toBe(true);
        // A mailto unsubscribe of an address that left changes nothing.
        expect(await store.recordReturn({ key: 'mailto-late', subscriberId: a!, editionId: null, kind: 'unsubscribe', detail: '' }, SOFT_RULE, at(4))).toMatchObject({ changed: false });
      });

      it('soft bounces of distinct editions within the window bounce the address; repeats and old ones do not count', async () => {
        await store.addSubscribers(people(1), at(0));
        const [id] = await idsOf(store, ['reader0@example.org']);
        const soft = (key: string, editionId: string) => ({ key, subscriberId: id!, editionId, kind: 'soft-bounce' as const, detail: '4.2.2 mailbox full' });
        const day = 86_400;
        expect(await store.recordReturn(soft('s0', '2025-07-01'), SOFT_RULE, at(0))).toMatchObject({ changed: false, softBounces: 1 });
        // Out of the window by the time the next ones come.
        expect(await store.recordReturn(soft('s1', '2025-07-10'), SOFT_RULE, at(10 * day))).toMatchObject({ changed: false, softBounces: 1 });
        expect(await store.recordReturn(soft('s2', '2025-07-10'), SOFT_RULE, at(10 * day + 60))).toMatchObject({ changed: false, softBounces: 1 });
        expect(await store.recordReturn(soft('s3', '2025-07-11'), SOFT_RULE, at(11 * day))).toMatchObject({ changed: false, softBounces: 2 });
        expect((await store.getSubscriber(id!))?.status).toBe('active');
        expect(await store.recordReturn(soft('s4', '2025-07-12'), SOFT_RULE, at(12 * day))).toEqual({ recorded: true, status: 'bounced', changed: true, softBounces: 3 });
        expect((await store.getSubscriber(id!))?.statusReason).toBe('3 soft bounces in 7 days: 4.2.2 mailbox full');
      });

      it('removing a subscriber removes their returned mail', async () => {
        await store.addSubscribers(people(1), at(0));
        const [id] = await idsOf(store, ['reader0@example.org']);
        await store.recordReturn({ key: 'r1', subscriberId: id!, editionId: E, kind: 'soft-bounce', detail: '4.4.1' }, SOFT_RULE, at(1));
        expect(await store.removeSubscriber(id!)).toBe(true);
        await store.addSubscribers(people(1), at(2));
        const [again] = await idsOf(store, ['reader0@example.org']);
        expect(await store.recordReturn({ key: 'r1', subscriberId: again!, editionId: E, kind: 'soft-bounce', detail: '4.4.1' }, SOFT_RULE, at(3))).toMatchObject({ recorded: true, softBounces: 1 });
      });
    });

    describe('migrations', () => {
      it('migration 4 keeps every subscriber on every topic and every delivery as it was', async () => {
        await store.addSubscribers(people(3), at(0));
        await store.createEdition(edition('2025-07-23', at(0)), at(0));
        await store.enqueueDeliveries('2025-07-23', at(0));
        await claimAll(store, 'w', '2025-07-23', at(1), 2);
        await fixture.exec([...UNDO_MIGRATION_4, 'DELETE FROM schema_migrations WHERE version = 4;'].join('\n'));
        const migrated = await another();
        expect(await fixture.appliedMigrations()).toContain(4);
        const subscribers = await migrated.listSubscribers({ limit: 10 });
        expect(subscribers.map((s) => [s.topics, s.pausedAt, s.statusReason])).toEqual([
          [null, null, null],
          [null, null, null],
          [null, null, null],
        ]);
        expect(await migrated.deliveryCounts('2025-07-23')).toEqual({ queued: 0, sending: 0, sent: 3, failed: 0, skipped: 0 });
        expect((await migrated.listDeliveries({ editionId: '2025-07-23', limit: 10 })).map((d) => [d.topics, d.lastReply])).toEqual([
          [null, '250 ok w'],
          [null, '250 ok w'],
          [null, '250 ok w'],
        ]);
      });

      it('re-running them on open is a no-op that keeps the data', async () => {
        await store.addSubscribers(people(3), at(0));
        const before = await fixture.appliedMigrations();
        expect(before.length).toBeGreaterThan(0);
        const reopened = await Promise.all([another(), another()]);
        expect(await fixture.appliedMigrations()).toEqual(before);
        expect(await reopened[0]!.countSubscribers()).toBe(3);
      });
    });

    describe('several processes', () => {
      it('three processes racing: one creates the edition, enqueue adds each once, no delivery claimed twice', async () => {
        const worker = path.join(here, 'race-worker.mjs');
        expect(existsSync(path.join(here, '../../dist/store/open-store.js')), 'run `npx tsc -p .` first').toBe(true);
        await store.addSubscribers(people(300), at(0));
        const startAt = String(Date.now() + 1500);
        const outputs = await Promise.all(
          ['p1', 'p2', 'p3'].map((name) => run(process.execPath, [worker, JSON.stringify(fixture.location), name, 'race-edition', startAt])),
        );
        const results = outputs.map((o) => JSON.parse(o.stdout) as { worker: string; created: boolean; enqueued: number; claimed: number[] });
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(results.reduce((sum, r) => sum + r.enqueued, 0)).toBe(300);
        const claimed = results.flatMap((r) => r.claimed);
        expect(claimed).toHaveLength(300);
        expect(new Set(claimed).size).toBe(300);
        expect(await store.deliveryCounts('race-edition')).toEqual({ queued: 0, sending: 0, sent: 300, failed: 0, skipped: 0 });
        const creator = results.find((r) => r.created)!.worker;
        expect((await store.getEdition('race-edition'))?.subject).toBe(`created by ${creator}`);
      });
    });
  });
}
