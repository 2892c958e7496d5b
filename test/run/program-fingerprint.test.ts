/**
 * The program's part of a build's key: an upgrade of the code that shapes the output (records,
 * feeds, pages, and the root files they use) re-renders the site; a change elsewhere does not.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { programFingerprint } from '../../src/run/build-site.js';

let folder: string;

afterEach(() => rmSync(folder, { recursive: true, force: true }));

/** A program tree as dist/ is laid out: package.json beside it, folders of modules and root files. */
function programTree(): string {
  folder = mkdtempSync(path.join(tmpdir(), 'briefing-fingerprint-'));
  const root = path.join(folder, 'dist');
  writeFileSync(path.join(folder, 'package.json'), '{"dependencies":{"feed":"6.0.0"}}');
  for (const file of ['content/parse-article.js', 'feed/atom-document.js', 'output/site-pages.js', 'output/nested/part.js', 'cli/main.js', 'zone-names.js']) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), `// ${file}\n`);
  }
  return root;
}

describe('the program fingerprint', () => {
  it('changes with the code that shapes the output, the root files and package.json, not with the rest', async () => {
    const root = programTree();
    const first = await programFingerprint(root);
    expect(await programFingerprint(root)).toBe(first);

    writeFileSync(path.join(root, 'cli/main.js'), '// another command line\n');
    expect(await programFingerprint(root)).toBe(first);

    let last = first;
    for (const file of ['zone-names.js', 'output/nested/part.js', 'content/parse-article.js', 'feed/atom-document.js', '../package.json']) {
      writeFileSync(path.join(root, file), `// ${file}, upgraded\n`);
      const next = await programFingerprint(root);
      expect(next, file).not.toBe(last);
      last = next;
    }
  });
});
