import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { generateRecord } from '../../src/bench/generate-articles.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { createArticleParser } from '../../src/content/parse-article.js';
import type { RecordToParse, SharedParser } from '../../src/content/shared-parse.js';
import { folderWith, record, testRecordLimit, testTopics } from './helpers.js';

// The helper thread runs only in the compiled program (its script is dist/content/parse-worker.js):
// these tests load dist/, which `npm test` compiles first, and compare it with the sources on one thread.
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
const compiled = async <T>(relative: string): Promise<T> => {
  expect(existsSync(path.join(DIST, relative)), 'run `npx tsc -p .` first: these tests load dist/').toBe(true);
  return (await import(pathToFileURL(path.join(DIST, relative)).href)) as T;
};
const rules = { topics: testTopics, timeZone: 'Europe/Kyiv' };
const NEWEST = new Date('2025-07-24T03:30:00Z');

/** Generated records; unless `valid`, every 25th of them broken (two ways, in turn). */
function records(count: number, valid = false): Record<string, string> {
  const files: Record<string, string> = {};
  for (let index = 1; index <= count; index += 1) {
    const generated = generateRecord(index, new Date(NEWEST.getTime() - index * 3_600_000), { paragraphs: 2 });
    const broken = index % 50 === 0 ? record('Body.', 'title: No date\nsource: Test') : index % 25 === 0 ? '---\ntitle: [unclosed\n---\nBody.\n' : undefined;
    files[generated.name] = valid ? generated.text : (broken ?? generated.text);
  }
  return files;
}

let cleanup: (() => Promise<void>) | undefined;
let parser: SharedParser | undefined;
afterEach(async () => {
  parser?.close();
  parser = undefined;
  await cleanup?.();
  cleanup = undefined;
});

describe('parsing on two threads', () => {
  it('gives every record the result one thread gives it, whichever thread parsed it', async () => {
    const { createSharedParser } = await compiled<typeof import('../../src/content/shared-parse.js')>('content/shared-parse.js');
    const single = createArticleParser(rules);
    const batch: RecordToParse[] = Object.entries(records(200)).map(([name, text]) => ({ text, file: `content/${name}`, id: name.slice(0, -3) }));
    parser = createSharedParser(rules, (item) => single.parse(item.text, item.file, item.id));
    const begun = parser.begin(batch);
    // The helper starts and takes records while this thread is away; then both share the rest.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const first = begun.finish();
    const second = parser.begin(batch).finish();
    const expected = batch.map((item) => single.parse(item.text, item.file, item.id));
    expect(parser.helperParsed).toBeGreaterThan(0);
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    expect(expected.filter((result) => result.problems !== undefined)).toHaveLength(8);
  });

  it('loads many records as one thread does: the same articles, the same problems in name order', async () => {
    const compiledLoad = await compiled<typeof import('../../src/content/load-articles.js')>('content/load-articles.js');
    for (const valid of [true, false]) {
      const folder = await folderWith(records(300, valid));
      cleanup = folder.cleanup;
      const options = { dir: folder.dir, topics: testTopics, timeZone: 'Europe/Kyiv', maxRecordBytes: testRecordLimit };
      const twoThreads = await compiledLoad.loadArticles(options).catch((error: Error) => error);
      const oneThread = await loadArticles(options).catch((error: Error) => error);
      if (valid) {
        expect(twoThreads).toHaveLength(300);
        expect(twoThreads).toEqual(oneThread);
      } else {
        const lines = (twoThreads as Error).message.split('\n');
        expect((twoThreads as Error).message).toBe((oneThread as Error).message);
        // The summary, then the twelve broken records' problems in name order.
        expect(lines).toHaveLength(13);
        expect(lines.slice(1)).toEqual([...lines.slice(1)].sort());
      }
      await folder.cleanup();
      cleanup = undefined;
    }
  });
});
