import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BriefingError } from '../errors.js';
import type { SubscriberStore } from '../store/store.js';
import { importSubscriberCsv, type CsvImportResult } from './import-csv.js';

/**
 * On first run (an empty store) imports the sample list the config names (`sampleSubscribers`), so
 * `npm start` on a fresh clone has someone to send to. Does nothing once the store has subscribers.
 */
export async function seedSampleSubscribers(
  store: Pick<SubscriberStore, 'countSubscribers' | 'importSubscribers'>,
  file: string | undefined,
  topicIds: readonly string[],
  now: Date,
): Promise<CsvImportResult | undefined> {
  if (file === undefined || (await store.countSubscribers()) > 0) return undefined;
  if (!existsSync(file)) {
    throw new BriefingError('config', 'missing-sample', `sampleSubscribers: ${file} does not exist: correct the path in the config, or remove the field to start with no subscribers`);
  }
  const result = await importSubscriberCsv(store, file, { status: 'active', topicIds, now, elapsedSeconds: () => performance.now() / 1000 });
  if (result.errors > 0) {
    throw BriefingError.fromProblems('subscribers', 'invalid-sample', result.problems, `the sample subscribers ${file} have errors`);
  }
  return result;
}
