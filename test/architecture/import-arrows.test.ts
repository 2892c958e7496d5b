import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the README's "Where things live" table true: reads every relative import under src/ and
 * fails on an arrow between folders that the table does not allow, and on any folder cycle.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');
const README = path.resolve(import.meta.dirname, '../../README.md');

/** Folder -> folders it may import, read from the README table (`may import` column, comma-separated). */
function allowedArrows(): Map<string, Set<string>> {
  const text = readFileSync(README, 'utf8');
  const section = text.split('## Where things live')[1]?.split('\n## ')[0] ?? '';
  const rows = section.split('\n').filter((line) => /^\| `[a-z]+\/` \|/.test(line));
  const allowed = new Map<string, Set<string>>();
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    const folder = /`([a-z]+)\/`/.exec(cells[1] ?? '')?.[1];
    if (folder === undefined) continue;
    const targets = [...(cells[3] ?? '').matchAll(/`([a-z]+)\/`/g)].map((match) => match[1] as string);
    allowed.set(folder, new Set(targets));
  }
  return allowed;
}

/** Static `import … from`/`export … from` and dynamic `import('…')` of a relative path. */
const IMPORT = /^\s*(?:import|export)\b[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

/** Every (from, to, file) import arrow under src/: `from` and `to` are top-level folders, or a root file's name. */
function importArrows(): Array<{ from: string; to: string; file: string }> {
  const arrows: Array<{ from: string; to: string; file: string }> = [];
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const from = path.relative(SRC, file).split(path.sep)[0] as string;
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(IMPORT)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), (match[1] ?? match[2]) as string));
      const to = target.split(path.sep)[0] as string;
      if (to !== from) arrows.push({ from, to, file: path.relative(SRC, file) });
    }
  }
  return arrows;
}

/** Root files (config.ts, errors.ts, address.ts, …; imported by their .js name) are leaves every folder may import. */
const isRootFile = (name: string): boolean => name.endsWith('.ts') || name.endsWith('.js');

describe('where things live (README table)', () => {
  const allowed = allowedArrows();
  const all = importArrows();
  // Arrows between folders; a root file's imports are checked on their own below.
  const arrows = all.filter(({ from, to }) => !isRootFile(from) && !isRootFile(to));

  it('the table lists every folder of src/', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    expect([...allowed.keys()].sort()).toEqual(folders);
  });

  it('no import arrow the table forbids', () => {
    const forbidden = arrows.filter(({ from, to }) => !(allowed.get(from)?.has(to) ?? false)).map(({ from, to, file }) => `${file} -> ${to}/`);
    expect(forbidden).toEqual([]);
  });

  it('root files are leaves: they import other root files only', () => {
    const intoFolders = all.filter(({ from, to }) => isRootFile(from) && !isRootFile(to)).map(({ from, to }) => `${from} -> ${to}/`);
    expect(intoFolders).toEqual([]);
  });

  it('reads the arrows it judges (the parser finds the known ones)', () => {
    // Guards the regex: if it stopped matching, every other check would pass on nothing.
    expect(arrows.some(({ file, to }) => file === path.join('run', 'slot-run.ts') && to === 'delivery')).toBe(true);
    expect(all.some(({ file, to }) => file === path.join('store', 'sql-store.ts') && to === 'address.js')).toBe(true);
    expect(allowed.get('run')?.has('store')).toBe(true);
  });

  it('no folder cycle', () => {
    const edges = new Map<string, Set<string>>();
    for (const { from, to } of arrows) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    const reaches = (start: string, goal: string, seen = new Set<string>()): boolean =>
      [...(edges.get(start) ?? [])].some((next) => next === goal || (!seen.has(next) && (seen.add(next), reaches(next, goal, seen))));
    const cycles = [...edges.keys()].filter((folder) => reaches(folder, folder));
    expect(cycles).toEqual([]);
  });
});
