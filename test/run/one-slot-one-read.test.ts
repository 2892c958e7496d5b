import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { createTransport } from '../../src/delivery/create-transport.js';
import { mjmlRendererAhead } from '../../src/email/compile-mjml.js';
import { buildSite } from '../../src/run/build-site.js';
import { loadContent } from '../../src/run/load-content.js';
import type { RunContext } from '../../src/run/run-context.js';
import { sendToSubscribers } from '../../src/run/send.js';
import { runEditionSlot } from '../../src/run/slot-run.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { SEED_EDITION, testConfig } from '../edition/fixtures.js';

/**
 * Issue 16: a run resolves its slot once and reads the slot's edition record once. Before, `send`
 * resolved the slot and `openEdition` resolved it again, and the record was read two or three
 * times; a clock that crossed a slot between the two made one run work on two editions.
 */

/** The seed edition's slot is 21:00 Kyiv on 23 July (18:00 UTC); the next one is a day later. */
const BEFORE_NEXT_SLOT = new Date('2025-07-24T17:59:30Z');
const AFTER_NEXT_SLOT = new Date('2025-07-24T18:00:30Z');

let root: string;
let config: Config;
const logger = pino({ level: 'silent' });

beforeEach(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'briefing-one-read-'));
  config = testConfig(() => {}, { output: path.join(root, 'output'), data: path.join(root, 'data') });
  const store = await openStore();
  try {
    await store.addSubscribers([1, 2, 3].map((n) => ({ address: `reader${n}@example.com`, status: 'active' as const, source: 'test' })), BEFORE_NEXT_SLOT);
  } finally {
    await store.close();
  }
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function openStore(): Promise<Store> {
  return openStoreAt({ kind: 'sqlite', file: path.join(root, 'data', 'briefing.db') });
}

/** The real SQLite store, with the edition ids each `getEdition` call asked for written down. */
function countingReads(store: Store, reads: string[]): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === 'getEdition') {
        return async (id: string) => {
          reads.push(id);
          return target.getEdition(id);
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A clock that reads `first` once and `later` ever after: the run's own start lies just before a slot, the rest of it after. */
function crossingClock(first: Date, later: Date): { now(): Date } {
  let read = false;
  return {
    now() {
      const at = read ? later : first;
      read = true;
      return at;
    },
  };
}

/** The editions the store has a record of. */
async function recordedEditions(): Promise<string[]> {
  const store = await openStore();
  try {
    return (await store.listEditions(10)).map((record) => `${record.id} ${record.status}`);
  } finally {
    await store.close();
  }
}

describe('a run resolves its slot once and reads its record once', () => {
  it('briefing send (no --date): the due edition at the start is the one recorded and sent, though the clock crosses the next slot meanwhile', async () => {
    const reads: string[] = [];
    const context: RunContext = {
      config: () => config,
      clock: crossingClock(BEFORE_NEXT_SLOT, AFTER_NEXT_SLOT),
      logger,
      interactive: false,
      openStore: async () => countingReads(await openStore(), reads),
      createTransport: async (editionId) => createTransport(config, editionId, logger),
      dkim: () => undefined,
      mjml: mjmlRendererAhead(false),
      stopSignal: new AbortController().signal,
    };
    const report = await sendToSubscribers(context, { resume: false, replan: false, force: false, interactive: false });
    expect(report.kind).toBe('delivered');
    expect(report.opened.id).toBe(SEED_EDITION);
    expect(reads).toEqual([SEED_EDITION]);
    expect(await recordedEditions()).toEqual([`${SEED_EDITION} sent`]);
    expect(readdirSync(path.join(root, 'output', 'outbox', SEED_EDITION))).toHaveLength(3);
  });

  it('a slot run (briefing run and each scheduler fire): the record of the slot it is handed is read once, and only that slot is recorded', async () => {
    const reads: string[] = [];
    const store = countingReads(await openStore(), reads);
    try {
      const articles = await loadContent(config);
      const report = await runEditionSlot(
        {
          config,
          store,
          clock: crossingClock(BEFORE_NEXT_SLOT, AFTER_NEXT_SLOT),
          logger,
          interactive: false,
          createTransport: async (editionId) => createTransport(config, editionId, logger),
          dkim: undefined,
          buildSite: (loaded) => buildSite(config, { articles: loaded }),
        },
        { target: { id: SEED_EDITION, slot: new Date('2025-07-23T18:00:00Z') }, articles },
        new AbortController().signal,
      );
      expect(report.outcome).toBe('sent');
      expect(reads).toEqual([SEED_EDITION]);
    } finally {
      await store.close();
    }
    expect(await recordedEditions()).toEqual([`${SEED_EDITION} sent`]);
  });

  it('a slot before an edition that went out (sent ahead with --force) is recorded as skipped, saying why, and sends nothing', async () => {
    const store = await openStore();
    const dependencies = {
      config,
      store,
      clock: { now: () => AFTER_NEXT_SLOT },
      logger,
      interactive: false,
      createTransport: async (editionId: string) => createTransport(config, editionId, logger),
      dkim: undefined,
      buildSite: (loaded: Parameters<typeof buildSite>[1]['articles']) => buildSite(config, { articles: loaded }),
    };
    try {
      const articles = await loadContent(config);
      const ahead = await runEditionSlot(dependencies, { target: { id: SEED_EDITION, slot: new Date('2025-07-23T18:00:00Z') }, articles }, new AbortController().signal);
      expect(ahead.outcome).toBe('sent');
      const earlier = await runEditionSlot(dependencies, { target: { id: '2025-07-22', slot: new Date('2025-07-22T18:00:00Z') }, articles }, new AbortController().signal);
      expect(earlier).toMatchObject({ outcome: 'skipped', message: `edition 2025-07-22 skipped: edition ${SEED_EDITION}, which went out after it, already told its stories` });
    } finally {
      await store.close();
    }
    expect(await recordedEditions()).toEqual([`${SEED_EDITION} sent`, '2025-07-22 skipped']);
    expect(readdirSync(path.join(root, 'output', 'outbox'))).toEqual([SEED_EDITION]);
  });
});
