/**
 * A build that renders many files shares them with a helper thread (src/output/shared-render.ts).
 * The helper runs only in the compiled program (dist/, which `npm test` compiles first), so these
 * tests build with dist/ and compare with the sources' build on one thread: the same bytes, whichever
 * thread rendered a file.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, readEnvironment } from '../../src/config.js';
import { MANIFEST_PATH } from '../../src/output/build-manifest.js';
import { SHARED_RENDER_FROM } from '../../src/output/shared-render.js';
import { buildSite, type BuildSummary } from '../../src/run/build-site.js';
import { compiled, generatedRecords } from '../content/helpers.js';
import { withoutPermissionOverride } from '../support/without-permission-override.js';
import { REPOSITORY, createBuildPublication } from './build-publication.js';

/**
 * Generated records besides the publication's six: with feed pages of 2, some 3,600 files, seconds of
 * rendering, so the helper (ready within half a second) surely takes a share even on a busy machine.
 */
const RECORDS = 1_200;

let dir: string;
beforeEach(() => {
  dir = createBuildPublication('briefing-shared-render-', { ownTemplates: true });
  for (const [name, text] of Object.entries(generatedRecords(RECORDS))) writeFileSync(path.join(dir, 'content', name), text);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function configOf(name: string): ReturnType<typeof parseConfig> {
  const file = path.join(dir, name);
  return parseConfig(readFileSync(file, 'utf8'), file, readEnvironment({}));
}

/** Builds `output/` with the compiled program, which shares the rendering with its helper. */
async function buildOnTwoThreads(): Promise<BuildSummary> {
  const program = await compiled<typeof import('../../src/run/build-site.js')>('run/build-site.js');
  return program.buildSite(configOf('briefing.config.json'));
}

/** Builds `full/` from scratch with the sources, on this thread alone. */
async function buildOnOneThread(): Promise<BuildSummary> {
  rmSync(path.join(dir, 'full'), { recursive: true, force: true });
  rmSync(path.join(dir, 'full-data'), { recursive: true, force: true });
  return buildSite(configOf('full.config.json'));
}

/** Every file of a folder with its bytes, the manifest left out (it names the program that built). */
function files(folder: string): Map<string, string> {
  const entries = readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  const relative = entries.map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name))).filter((file) => file !== MANIFEST_PATH);
  return new Map(relative.sort().map((file) => [file, readFileSync(path.join(folder, file), 'latin1')]));
}

function expectSameFiles(): void {
  const ours = files(path.join(dir, 'output'));
  const theirs = files(path.join(dir, 'full'));
  expect([...ours.keys()]).toEqual([...theirs.keys()]);
  const differing = [...ours].filter(([file, bytes]) => theirs.get(file) !== bytes).map(([file]) => file);
  expect(differing).toEqual([]);
}

describe('rendering on two threads', () => {
  it('writes, with the helper rendering a share, the files one thread writes', async () => {
    const two = await buildOnTwoThreads();
    const one = await buildOnOneThread();
    expect(two.rendered).toBeGreaterThan(3000);
    expect(two.renderedByHelper).toBeGreaterThan(0);
    expect(two.renderedByHelper).toBeLessThan(two.rendered);
    expect(one.renderedByHelper).toBe(0);
    // Every rendered file is counted once, by the thread that wrote it.
    expect({ written: two.written, unchanged: two.unchanged }).toEqual({ written: two.rendered, unchanged: 0 });
    expectSameFiles();
  });

  it('renders again over an earlier build (changed templates) as a fresh build on one thread does, counting unchanged files', async () => {
    await buildOnTwoThreads();
    // A new comment in the article page changes every article page; the feeds come out the same.
    const template = path.join(dir, 'templates', 'article.hbs');
    writeFileSync(template, `${readFileSync(template, 'utf8')}<!-- edited -->\n`);
    const again = await buildOnTwoThreads();
    expect(again.rendered).toBeGreaterThanOrEqual(SHARED_RENDER_FROM);
    expect(again.renderedByHelper).toBeGreaterThan(0);
    expect(again.written + again.unchanged).toBe(again.rendered);
    expect(again.written).toBeGreaterThanOrEqual(RECORDS);
    expect(again.unchanged).toBeGreaterThan(0);
    await buildOnOneThread();
    expectSameFiles();
  });

  it('reports a broken record of a first build (whose helper starts with the load) before any page is written, and builds once it is mended', async () => {
    const broken = path.join(dir, 'content', 'zz-broken.md');
    writeFileSync(broken, '---\ntitle: No date\nsource: Test\n---\nBody.\n');
    const cli = (): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [path.join(REPOSITORY, 'dist/cli/main.js'), 'build'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });
    const failed = cli();
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^content: 1 problem in the article records\ncontent: content\/zz-broken\.md:\d+: published: /);
    // Nothing rendered: the problem is found before any page is written.
    expect(readdirSync(dir)).not.toContain('output');
    rmSync(broken);
    const mended = cli();
    expect(mended.status).toBe(0);
    await buildOnOneThread();
    expectSameFiles();
  });

  it('fails on an unwritable output folder with the one-line error of one thread, exit 1, the previous files left as they were', async () => {
    await buildOnTwoThreads();
    const output = path.join(dir, 'output');
    const template = path.join(dir, 'templates', 'article.hbs');
    writeFileSync(template, `${readFileSync(template, 'utf8')}<!-- edited -->\n`);
    const before = files(output);
    const folders = [output, path.join(output, 'articles'), path.join(output, 'archive')];
    for (const folder of folders) chmodSync(folder, 0o555);
    try {
      // Root writes anywhere, so the command runs without the capabilities that override permissions.
      const child = withoutPermissionOverride(process.execPath, [path.join(REPOSITORY, 'dist/cli/main.js'), 'build']);
      const run = spawnSync(child.command, child.args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^output: cannot write output\/\S+: permission denied \(EACCES\); the previous file is left as it was\n$/);
      expect(files(output)).toEqual(before);
    } finally {
      for (const folder of folders) chmodSync(folder, 0o755);
    }
  });
});
