import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedSampleSubscribers } from '../../src/subscribers/seed-sample.js';
import { sqliteFixture, type StoreFixture } from '../store/store-fixtures.js';

const sample = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../subscribers.sample.csv');
const NOW = new Date('2025-07-23T04:00:00Z');
const TOPIC_IDS = ['talks', 'protests', 'war'];

describe('seedSampleSubscribers', () => {
  let fixture: StoreFixture;
  beforeEach(async () => {
    fixture = await sqliteFixture();
  });
  afterEach(() => fixture.cleanup());

  it('imports the sample list of the repository into an empty store, once', async () => {
    const result = await seedSampleSubscribers(fixture.store, sample, TOPIC_IDS, NOW);
    expect(result).toMatchObject({ created: 3, errors: 0 });
    expect(await fixture.store.countSubscribers('active')).toBe(3);
    expect((await fixture.store.findSubscriber('reader.one@example.org'))?.source).toBe('import:subscribers.sample.csv');
    expect(await seedSampleSubscribers(fixture.store, sample, TOPIC_IDS, NOW)).toBeUndefined();
  });

  it('leaves a store that has subscribers alone, and does nothing without a sample', async () => {
    await fixture.store.addSubscribers([{ address: 'own@example.org', status: 'unsubscribed', source: 'web' }], NOW);
    expect(await seedSampleSubscribers(fixture.store, sample, TOPIC_IDS, NOW)).toBeUndefined();
    expect(await fixture.store.countSubscribers()).toBe(1);
    expect(await seedSampleSubscribers(fixture.store, undefined, TOPIC_IDS, NOW)).toBeUndefined();
  });

  it('refuses a sample with bad lines, naming them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'briefing-sample-'));
    try {
      const file = path.join(dir, 'sample.csv');
      writeFileSync(file, 'address\nok@example.org\nbroken\n');
      await expect(seedSampleSubscribers(fixture.store, file, TOPIC_IDS, NOW)).rejects.toThrow(/sample\.csv:3: address: "broken" is not an address/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
