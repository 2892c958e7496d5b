import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStoreAt, type StoreLocation } from '../store/open-store.js';
import type { NewSubscriber, TopicChoice } from '../store/store.js';
import { runChild, type ChildResult } from './measure.js';

/** The repository (dist/bench/ is two folders down): its config, templates and CLI are used as shipped. */
export const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(REPOSITORY, 'dist', 'cli', 'main.js');

/** The edition the send figures send: the repository's schedule puts its slot at 07:00 Kyiv that day. */
export const BENCH_EDITION = '2025-07-24';
/** Just before that slot: the generated articles are published in the hours before it. */
export const BENCH_EDITION_NEWEST = new Date('2025-07-24T03:30:00Z');

/** A secret for the unsubscribe tokens of the bench's messages (never a real one). */
export const BENCH_SECRET = 'briefing-bench-secret-0123456789';
/** A link key as long as the store's (22 base64url characters), for messages built outside a store. */
export const BENCH_LINK_KEY = 'bench-link-key-0123456';

/** A throw-away publication: the repository's configuration with its folders in a temporary directory. */
export interface BenchPublication {
  root: string;
  configFile: string;
  contentDir: string;
  outputDir: string;
  databaseFile: string;
  /** Runs `briefing <args> --config <configFile>` with only the BRIEFING_* variables given. */
  run(args: readonly string[], env?: Record<string, string>, options?: Parameters<typeof runChild>[2]): Promise<ChildResult>;
}

/** This process's environment without any BRIEFING_* variable, so a bench never touches a real store or server. */
export function cleanEnvironment(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BRIEFING_')));
  return { ...clean, ...env };
}

/**
 * Makes a publication under `root` from the repository's briefing.config.json (templates used in
 * place, no sample subscribers), reading its articles from `contentDir` (default `root/content`).
 */
export function createPublication(root: string, contentDir = path.join(root, 'content')): BenchPublication {
  mkdirSync(root, { recursive: true });
  const config = JSON.parse(readFileSync(path.join(REPOSITORY, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  config.paths = { content: contentDir, templates: path.join(REPOSITORY, 'templates'), output: 'output', data: 'data' };
  delete config.sampleSubscribers;
  const configFile = path.join(root, 'briefing.config.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return {
    root,
    configFile,
    contentDir,
    outputDir: path.join(root, 'output'),
    databaseFile: path.join(root, 'data', 'briefing.db'),
    run: (args, env = {}, options = {}) =>
      runChild(process.execPath, [CLI, ...args, '--config', configFile], { cwd: root, env: cleanEnvironment(env), ...options }),
  };
}

/** The path of the CLI the figures run (`dist/cli/main.js`). */
export function cliPath(): string {
  return CLI;
}

/**
 * Fills a store (a SQLite file, or a PostgreSQL schema) with `count` active subscribers
 * (`reader<n>@example.com`, every third one named) through the real store's bulk import, so its
 * schema is the one `briefing` migrates to; with `choices`, subscriber n reads choice n of the list,
 * in turn (default: every topic).
 */
export async function seedSubscribers(location: StoreLocation, count: number, choices: readonly TopicChoice[] = [null]): Promise<void> {
  const store = await openStoreAt(location);
  try {
    async function* batches(): AsyncGenerator<NewSubscriber[]> {
      for (let start = 1; start <= count; start += 5000) {
        const end = Math.min(count, start + 4999);
        yield Array.from({ length: end - start + 1 }, (_, offset): NewSubscriber => {
          const n = start + offset;
          return { address: `reader${n}@example.com`, name: n % 3 === 0 ? `Reader ${n}` : null, status: 'active', source: 'bench', topics: choices[n % choices.length] ?? null };
        });
      }
    }
    await store.importSubscribers(batches(), new Date());
  } finally {
    await store.close();
  }
}

/** Puts a copy of a seeded store into a publication (a closed SQLite file copies whole). */
export function installStore(seedFile: string, publication: BenchPublication): void {
  mkdirSync(path.dirname(publication.databaseFile), { recursive: true });
  copyFileSync(seedFile, publication.databaseFile);
}
