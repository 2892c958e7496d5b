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

/** Every relative import under src/ as (file, target), both paths relative to src/ (the target by its .ts name). */
function fileImports(): Array<{ file: string; target: string }> {
  const imports: Array<{ file: string; target: string }> = [];
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(IMPORT)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), (match[1] ?? match[2]) as string)).replace(/\.js$/, '.ts');
      imports.push({ file: path.relative(SRC, file), target });
    }
  }
  return imports;
}

/** Every (from, to, file) import arrow under src/: `from` and `to` are top-level folders, or a root file's name. */
function importArrows(): Array<{ from: string; to: string; file: string }> {
  const arrows: Array<{ from: string; to: string; file: string }> = [];
  for (const { file, target } of fileImports()) {
    const from = file.split(path.sep)[0] as string;
    const to = target.split(path.sep)[0]?.replace(/\.ts$/, '.js') as string;
    if (to !== from) arrows.push({ from, to, file });
  }
  return arrows;
}

/** The nodes of `edges` that reach themselves again (each node of any cycle). */
function onCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const reaches = (start: string, goal: string, seen = new Set<string>()): boolean =>
    [...(edges.get(start) ?? [])].some((next) => next === goal || (!seen.has(next) && (seen.add(next), reaches(next, goal, seen))));
  return [...edges.keys()].filter((node) => reaches(node, node)).sort();
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
    expect(onCycles(edges)).toEqual([]);
  });

  it('no file cycle either, inside a folder or across (site-pages.ts and site-templates.ts once imported each other)', () => {
    const imports = fileImports();
    const edges = new Map<string, Set<string>>();
    for (const { file, target } of imports) edges.set(file, (edges.get(file) ?? new Set()).add(target));
    // Guards the resolution: an import that names no file would hide its arrow from this check.
    const files = new Set(readdirSync(SRC, { recursive: true }).map(String));
    expect(imports.filter(({ target }) => !files.has(target)).map(({ file, target }) => `${file} -> ${target}`)).toEqual([]);
    expect(imports.some(({ file, target }) => file === path.join('output', 'site-pages.ts') && target === path.join('output', 'site-views.ts'))).toBe(true);
    expect(onCycles(edges)).toEqual([]);
  });

  it('the cycle check finds a cycle when there is one (so the two checks above can fail)', () => {
    const edges = new Map([['output/site-pages.ts', new Set(['output/site-templates.ts'])], ['output/site-templates.ts', new Set(['output/site-pages.ts'])], ['feed/a.ts', new Set(['content/b.ts'])]]);
    expect(onCycles(edges)).toEqual(['output/site-pages.ts', 'output/site-templates.ts']);
  });
});
