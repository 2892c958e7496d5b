/**
 * A small publication for the build tests, in a temporary folder: the repository's two records and
 * four generated ones, feeds of 2 items and archive pages of 2, and a second config (`full.config.json`)
 * that builds the same content into `full/` from scratch, to compare an incremental build with.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/** A record in the format of content/*.md, published on 2025-07-(10 + index); index 1 to 21. */
export function record(index: number, title = `Generated story ${index}`): string {
  return [
    '---',
    `title: ${title}`,
    `published: 2025-07-${String(10 + index).padStart(2, '0')}T08:00:00+03:00`,
    'source: Test Wire',
    'topics: [talks]',
    `summary: Summary of story ${index}.`,
    '---',
    `Body of story ${index}, about the talks in Istanbul.`,
    '',
  ].join('\n');
}

/** Makes the publication; returns its folder. With `ownTemplates` it gets a copy of the templates (to edit), else it uses the repository's. */
export function createBuildPublication(prefix: string, options: { ownTemplates?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const config = JSON.parse(readFileSync(path.join(REPOSITORY, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  delete config.sampleSubscribers;
  const templates = options.ownTemplates === true ? 'templates' : path.join(REPOSITORY, 'templates');
  if (options.ownTemplates === true) cpSync(path.join(REPOSITORY, 'templates'), path.join(dir, 'templates'), { recursive: true });
  const paths = { content: 'content', templates, output: 'output', data: 'data' };
  const feed = { items: 2, archivePageSize: 2 };
  writeFileSync(path.join(dir, 'briefing.config.json'), JSON.stringify({ ...config, feed, paths }));
  writeFileSync(path.join(dir, 'full.config.json'), JSON.stringify({ ...config, feed, paths: { ...paths, output: 'full', data: 'full-data' } }));
  cpSync(path.join(REPOSITORY, 'content'), path.join(dir, 'content'), { recursive: true });
  for (let index = 1; index <= 4; index += 1) writeFileSync(path.join(dir, 'content', `story-${index}.md`), record(index));
  return dir;
}
