/**
 * An in-process publication for the reliability tests: the repository's configuration and content
 * copied into a temp folder, a real SQLite store with active subscribers, and the edition's
 * briefing rendered by the real planner and MJML templates.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../../src/config.js';
import { loadArticles } from '../../../src/content/load-articles.js';
import { openEdition } from '../../../src/run/open-edition.js';
import { resolveTarget } from '../../../src/run/open-slot-edition.js';
import type { Briefing } from '../../../src/email/briefing.js';
import { openStoreAt } from '../../../src/store/open-store.js';
import type { Delivery, Store } from '../../../src/store/store.js';
import { REPOSITORY } from '../../support/cli-workspace.js';

/** The edition the repository's content fills (the evening edition of 2025-07-23). */
export const EDITION = '2025-07-23';
/** BRIEFING_SECRET of the reliability tests' publications. */
export const SECRET = 'reliability-test-secret-0123456789';

/** A temp publication with its parts open; `cleanup` closes the store and removes the folder. */
export interface Publication {
  root: string;
  config: Config;
  store: Store;
  /** Renders the edition (recorded in the store, as `send` does). */
  briefing(): Promise<Briefing>;
  cleanup(): Promise<void>;
}

/** The repository's config with folders in `root` (templates used in place); `configure` may change it. */
function writeConfig(root: string, configure?: (config: Record<string, unknown>) => void): string {
  const config = JSON.parse(readFileSync(path.join(REPOSITORY, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  config.paths = { content: 'content', templates: path.join(REPOSITORY, 'templates'), output: 'output', data: 'data' };
  delete config.sampleSubscribers;
  configure?.(config);
  const file = path.join(root, 'briefing.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** A publication with `subscribers` active readers `reader<n>@example.com` (ids 1…n). */
export async function createPublication(options: { subscribers: number; configure?: (config: Record<string, unknown>) => void }): Promise<Publication> {
  const root = mkdtempSync(path.join(tmpdir(), 'briefing-reliability-'));
  cpSync(path.join(REPOSITORY, 'content'), path.join(root, 'content'), { recursive: true });
  const config = loadConfig(writeConfig(root, options.configure), { BRIEFING_SECRET: SECRET });
  const store = await openStoreAt({ kind: 'sqlite', file: path.join(root, 'data', 'briefing.db') });
  const now = new Date();
  for (let first = 1; first <= options.subscribers; first += 1000) {
    const count = Math.min(1000, options.subscribers - first + 1);
    await store.addSubscribers(
      Array.from({ length: count }, (_, index) => ({ address: `reader${first + index}@example.com`, name: null, status: 'active' as const, source: 'test' })),
      now,
    );
  }
  return {
    root,
    config,
    store,
    async briefing() {
      const articles = await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
      const target = resolveTarget(config, new Date(), EDITION);
      const opened = await openEdition({ config, store, articles, clock: { now: () => new Date() } }, { target, stored: await store.getEdition(target.id), persist: true });
      if (opened.kind !== 'ready') throw new Error(`edition ${EDITION} was skipped: ${opened.message}`);
      return opened.briefing;
    },
    async cleanup() {
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Every delivery of an edition, page by page. */
export async function allDeliveries(store: Pick<Store, 'listDeliveries'>, editionId: string): Promise<Delivery[]> {
  const all: Delivery[] = [];
  for (;;) {
    const after = all[all.length - 1]?.subscriberId;
    const page = await store.listDeliveries({ editionId, limit: 1000, ...(after === undefined ? {} : { afterSubscriberId: after }) });
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

/** The subscriber id in a Message-ID (`<edition.subscriber.hash@list>`). */
export function subscriberOf(messageId: string): number {
  return Number(/^<[^.]+\.(\d+)\./.exec(messageId)?.[1]);
}
