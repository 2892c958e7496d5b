import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { generateRecord } from '../../src/bench/generate-articles.js';
import type { Topic } from '../../src/config.js';

/** Topics for tests that must not depend on the publication's config. */
export const testTopics: Topic[] = [
  { id: 'talks', title: 'Peace talks', match: ['talks', 'negotiat', 'ceasefire', 'POW'], minMatches: 1 },
  { id: 'protests', title: 'Protests', match: ['protest', 'corruption', 'NABU'], minMatches: 1 },
];

/** A record size limit far above every test record (the configuration's default). */
export const testRecordLimit = 2_000_000;

/** A fresh folder with the given files; removed by the returned cleanup. */
export async function folderWith(files: Record<string, string | Uint8Array>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'briefing-content-'));
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(path.join(dir, name), text)));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A minimal valid record around a body. */
export function record(body: string, frontMatter = 'title: A record\npublished: 2025-07-23T10:00:00+03:00\nsource: Test'): string {
  return `---\n${frontMatter}\n---\n${body}\n`;
}

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');

/**
 * A module of the compiled program (dist/, which `npm test` compiles first): helper threads run only
 * there (their scripts are dist/content/*-worker.js), so tests of two threads load it and compare it
 * with the sources on one thread.
 */
export async function compiled<T>(relative: string): Promise<T> {
  expect(existsSync(path.join(DIST, relative)), 'run `npx tsc -p .` first: these tests load dist/').toBe(true);
  return (await import(pathToFileURL(path.join(DIST, relative)).href)) as T;
}

const GENERATED_NEWEST = new Date('2025-07-24T03:30:00Z');

/** Records as the bench generates them, an hour apart, by file name; unless `valid`, every 25th broken (two ways, in turn). */
export function generatedRecords(count: number, valid = true): Record<string, string> {
  const files: Record<string, string> = {};
  for (let index = 1; index <= count; index += 1) {
    const generated = generateRecord(index, new Date(GENERATED_NEWEST.getTime() - index * 3_600_000), { paragraphs: 2 });
    const broken = index % 50 === 0 ? record('Body.', 'title: No date\nsource: Test') : index % 25 === 0 ? '---\ntitle: [unclosed\n---\nBody.\n' : undefined;
    files[generated.name] = valid ? generated.text : (broken ?? generated.text);
  }
  return files;
}
