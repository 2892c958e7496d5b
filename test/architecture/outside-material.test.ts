import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

/**
 * Keeps `.ci/isolated-tests` honest: it re-runs, with no `../shared` beside the checkout, only the
 * test files its grep picks (those that use test/support/outside-material.ts and its kin). A test
 * that read `../shared` some other way would escape that pass and could make a fresh clone fail
 * again (issue 15), so only the helper may name the folder, and every test file that mentions it
 * must be one the script picks.
 */
const REPOSITORY = path.resolve(import.meta.dirname, '../..');
const HELPER = 'test/support/outside-material.ts';

/** The pattern `.ci/isolated-tests` gives `grep -rlE` to choose its test files. */
function isolatedSelection(): RegExp {
  const script = readFileSync(path.join(REPOSITORY, '.ci/isolated-tests'), 'utf8');
  const pattern = /grep -rlE '([^']+)'/.exec(script)?.[1];
  expect(pattern, '.ci/isolated-tests chooses its files with grep -rlE \'PATTERN\'').toBeDefined();
  return new RegExp(pattern as string);
}

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(REPOSITORY, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|mjs|js|py)$/.test(entry.name))
    .map((entry) => path.relative(REPOSITORY, path.join(entry.parentPath, entry.name)));
}

/** Code that reaches beside the checkout: a `../shared` path, or the absolute folder it sits in here. */
const OUTSIDE = /\.\.\/shared\b|\/work\/shared\b/;

it('only the outside-material helper names ../shared, and every test file that mentions it runs in the isolated pass', () => {
  const selected = isolatedSelection();
  const reaching = [...sourceFiles('src'), ...sourceFiles('test'), ...sourceFiles('bench')].filter((file) => OUTSIDE.test(readFileSync(path.join(REPOSITORY, file), 'utf8')));
  const strays = reaching.filter((file) => file !== HELPER && !(file.endsWith('.test.ts') && selected.test(readFileSync(path.join(REPOSITORY, file), 'utf8'))));
  expect(strays).toEqual([]);
  expect(reaching).toContain(HELPER);
  // The check can fail: a test reading the seeds directly is not one the script picks.
  expect(selected.test("readFileSync('../shared/seeds/000.txt')")).toBe(false);
  expect(OUTSIDE.test("readFileSync('../shared/seeds/000.txt')")).toBe(true);
});
