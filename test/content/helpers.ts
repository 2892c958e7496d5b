import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Topic } from '../../src/config.js';

/** Topics for tests that must not depend on the publication's config. */
export const testTopics: Topic[] = [
  { id: 'talks', title: 'Peace talks', match: ['talks', 'negotiat', 'ceasefire', 'POW'], minMatches: 1 },
  { id: 'protests', title: 'Protests', match: ['protest', 'corruption', 'NABU'], minMatches: 1 },
];

/** A record size limit far above every test record (the configuration's default). */
export const testRecordLimit = 2_000_000;

/** A fresh folder with the given files; removed by the returned cleanup. */
export async function folderWith(files: Record<string, string>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'briefing-content-'));
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(path.join(dir, name), text)));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A minimal valid record around a body. */
export function record(body: string, frontMatter = 'title: A record\npublished: 2025-07-23T10:00:00+03:00\nsource: Test'): string {
  return `---\n${frontMatter}\n---\n${body}\n`;
}
