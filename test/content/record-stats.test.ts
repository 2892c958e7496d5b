import { statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadArticles } from '../../src/content/load-articles.js';
import { statHere, type RecordStatter } from '../../src/content/record-stats.js';
import { compiled, folderWith, generatedRecords, testRecordLimit, testTopics } from './helpers.js';

let cleanup: (() => Promise<void>) | undefined;
let statter: RecordStatter | undefined;
afterEach(async () => {
  statter?.close();
  statter = undefined;
  await cleanup?.();
  cleanup = undefined;
});

/** Calls `use` until the statter's helper has taken some stats (it starts at the first call, beside the work). */
async function helperRunning(shared: RecordStatter, use: () => unknown): Promise<void> {
  for (let attempt = 0; attempt < 100 && shared.helperStats === 0; attempt += 1) {
    await use();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(shared.helperStats, 'the helper thread never took a stat').toBeGreaterThan(0);
}

describe('the stat of every record on two threads', () => {
  it('gives every record the stamp statSync gives it, whichever thread took it, and each failure its code', async () => {
    const { createSharedStats } = await compiled<typeof import('../../src/content/record-stats.js')>('content/record-stats.js');
    const folder = await folderWith(generatedRecords(1500));
    cleanup = folder.cleanup;
    // A record that is a link to nothing: its stat fails, on either thread.
    symlinkSync(path.join(folder.dir, 'nowhere.md'), path.join(folder.dir, 'bench-000700x.md'));
    const names = [...Object.keys(generatedRecords(1500)), 'bench-000700x.md'].sort();
    const at = `${folder.dir}${path.sep}`;
    statter = createSharedStats();
    // The helper is started by the first call and takes its share of the later ones once it runs.
    await helperRunning(statter, () => statter?.stat(at, names));
    for (let round = 0; round < 5; round += 1) {
      const stats = statter.stat(at, names);
      names.forEach((name, index) => {
        if (name === 'bench-000700x.md') {
          expect([stats.stamp(index), stats.failure(index)]).toEqual([undefined, 'ENOENT']);
          return;
        }
        const own = statSync(path.join(folder.dir, name));
        expect(stats.stamp(index)).toEqual({ size: own.size, mtimeMs: own.mtimeMs, ctimeMs: own.ctimeMs, ino: own.ino });
        expect(stats.failure(index)).toBeUndefined();
      });
    }
    // And this thread alone gives the same.
    const [alone, shared] = [statHere(at, names), statter.stat(at, names)];
    expect(names.map((_, index) => [alone.stamp(index), alone.failure(index)])).toEqual(names.map((_, index) => [shared.stamp(index), shared.failure(index)]));
  });

  it('loads with a shared statter as without one: the same articles, the same problem for a record it cannot stat', async () => {
    const compiledLoad = await compiled<typeof import('../../src/content/load-articles.js')>('content/load-articles.js');
    const { createSharedStats } = await compiled<typeof import('../../src/content/record-stats.js')>('content/record-stats.js');
    const folder = await folderWith(generatedRecords(700));
    cleanup = folder.cleanup;
    const options = { dir: folder.dir, topics: testTopics, timeZone: 'Europe/Kyiv', maxRecordBytes: testRecordLimit };
    statter = createSharedStats();
    await helperRunning(statter, () => compiledLoad.loadArticles({ ...options, statter }));
    expect(await compiledLoad.loadArticles({ ...options, statter })).toEqual(await loadArticles(options));
    symlinkSync(path.join(folder.dir, 'nowhere.md'), path.join(folder.dir, 'bench-000350x.md'));
    const shared = await compiledLoad.loadArticles({ ...options, statter }).catch((error: Error) => error.message);
    expect(shared).toBe(await loadArticles(options).catch((error: Error) => error.message));
    expect(shared).toMatch(/bench-000350x\.md.*cannot read: ENOENT/);
    expect(statter.helperStats).toBeGreaterThan(0);
  });
});
