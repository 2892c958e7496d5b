import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../src/delivery/tokens.js';
import { unsafeMarkup } from './support/markup-check.js';
import { mutate, mutateBytes } from './support/mutate.mjs';
import { REPOSITORY } from '../support/cli-workspace.js';
import { RAW_TEXTS } from '../support/outside-material.js';
import { scale, seeds } from './support/seeded.js';

const DIST = path.join(REPOSITORY, 'dist');
const WORKER = path.join(path.dirname(new URL(import.meta.url).pathname), 'support/fuzz-worker.mjs');
/** An input taking longer than this is a hang (the slowest honest input takes well under a second). */
const HANG_MS = 20_000;
const SECRET = 'fuzz-secret-0123456789abcdef';
const NOW = new Date('2025-07-24T07:00:00Z');

const read = (file: string): string => readFileSync(file, 'utf8');
const filesIn = (folder: string, pattern: RegExp): string[] =>
  existsSync(folder) ? readdirSync(folder).filter((name) => pattern.test(name)).map((name) => path.join(folder, name)) : [];

/**
 * Real inputs to mutate: the publication's records, the repository's raw texts, CSV lists, and signed
 * tokens; only what the repository holds, so a seed names the same inputs on every machine.
 */
const CORPUS = {
  record: [...filesIn(path.join(REPOSITORY, 'content'), /\.md$/), ...filesIn(path.join(REPOSITORY, 'test/fixtures/content/bad'), /\.md$/)].map(read),
  importer: Object.values(RAW_TEXTS).map(read),
  csv: [
    read(path.join(REPOSITORY, 'subscribers.sample.csv')),
    'address,name,status,source,created,confirmed,unsubscribed\n"x@example.org","Zoë ""Z"" Ng",active,web,2025-07-01T00:00:00Z,,\n"multi\nline"@example.org,Name,pending,,,,\n',
    'Email;Name\r\nyo@example.com;Yo\r\n',
  ],
  token: [] as string[],
};
/** The link key every fuzzed token is checked against (one per subscriber in a store; one for all here). */
const LINK_KEY = 'fuzz-test-link-key-0123';
const TOKENS = [1, 2, 42, 9_007_199_254_740_991].flatMap((id) => [
  { token: createToken(SECRET, 'unsubscribe', { id, linkKey: LINK_KEY }), purpose: 'unsubscribe', subscriberId: id },
  { token: createToken(SECRET, 'confirm', { id, linkKey: LINK_KEY }, new Date(NOW.getTime() + 3_600_000)), purpose: 'confirm', subscriberId: id },
  { token: createToken(SECRET, 'confirm', { id, linkKey: LINK_KEY }, new Date(NOW.getTime() - 1000)), purpose: 'confirm', subscriberId: id },
]);
CORPUS.token = TOKENS.map((token) => token.token);
const TOPICS = [
  { id: 'talks', title: 'Peace talks', match: ['talks', 'ceasefire', 'Istanbul'], minMatches: 1 },
  { id: 'protests', title: 'Protests', match: ['protest', 'corruption'], minMatches: 1 },
];

type Target = keyof typeof CORPUS;

/** Runs a target in a worker; a hang stops it and names the input. */
async function fuzz(target: Target, seed: number, runs: number): Promise<{ tally: Record<string, number>; violations: string[]; suspects: Array<{ index: number; html: string }> }> {
  const progress = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER, {
    workerData: { target, seed, runs, corpus: CORPUS[target], dist: DIST, progress, topics: TOPICS, tokens: TOKENS, secret: SECRET, linkKey: LINK_KEY, now: NOW.toISOString() },
  });
  const current = new Int32Array(progress);
  let last = -1;
  let since = Date.now();
  const watchdog = setInterval(() => {
    const index = Atomics.load(current, 0);
    if (index !== last) {
      last = index;
      since = Date.now();
    } else if (Date.now() - since > HANG_MS) {
      void worker.terminate();
    }
  }, 500);
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', () => {
        const index = Atomics.load(current, 0);
        const input = target === 'csv' ? mutateBytes(CORPUS[target], seed, index).toString('latin1') : mutate(CORPUS[target], seed, index);
        reject(new Error(`${target} seed ${seed}: input ${index} hung for ${HANG_MS} ms (or crashed the worker): ${JSON.stringify(input.slice(0, 300))}…`));
      });
    });
  } finally {
    clearInterval(watchdog);
    await worker.terminate();
  }
}

const RUNS: Record<Target, number> = { record: scale(1500, 20_000), importer: scale(1500, 20_000), csv: scale(800, 10_000), token: scale(3000, 50_000) };
const SEEDS = seeds(4242, scale(1, 3));

describe('a fuzz run over every parser of outside input', () => {
  it('has a corpus for every target', () => {
    expect(existsSync(path.join(DIST, 'content/parse-article.js')), 'run `npx tsc -p .` first: the fuzz worker loads dist/').toBe(true);
    for (const [target, corpus] of Object.entries(CORPUS)) expect(corpus.length, target).toBeGreaterThan(0);
  });

  describe.each(SEEDS)('seed %i', (seed) => {
    it.each([
      ['record', 'the record loader returns an article with safe HTML, or problems naming content/fuzz.md and a line in it'],
      ['importer', 'the raw-text importer returns a record that loads, or an import: error naming the file'],
      ['csv', 'the CSV reader yields only valid subscribers and names file and line of every bad line'],
      ['token', 'the token verifier answers every input with a TokenCheck and accepts only what it signed'],
    ] as const)('%s: %s', async (target, _contract) => {
      const { tally, violations, suspects } = await fuzz(target, seed, RUNS[target]);
      expect(violations).toEqual([]);
      // Article HTML that looked suspicious to the worker's screen, read with a real HTML parser.
      for (const { index, html } of suspects) expect(unsafeMarkup(html), `input ${index}`).toEqual([]);
      // The control characters XML and HTML forbid never reach the HTML.
      for (const { index, html } of suspects) expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(html), `input ${index}`).toBe(false);
      // The mutations reach both outcomes: some inputs pass, some are refused.
      expect(tally.refused, JSON.stringify(tally)).toBeGreaterThan(0);
      if (target !== 'token') expect(tally.accepted, JSON.stringify(tally)).toBeGreaterThan(0);
      console.info(`fuzz ${target} seed ${seed}: ${RUNS[target]} inputs, ${JSON.stringify(tally)}`);
    }, scale(60_000, 600_000));
  });
});
