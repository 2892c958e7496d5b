/**
 * A large build renders on two threads (src/output/shared-render.ts): the helper thread makes the
 * plan the building thread made and takes jobs of each batch from a shared counter. Its script runs
 * only in the compiled program (dist/output/render-worker.js): these tests load dist/, which
 * `npm test` compiles first, and compare it with the sources rendering on one thread.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, createPublication } from '../../src/bench/bench-publication.js';
import { generateRecord, writeRecords } from '../../src/bench/generate-articles.js';
import { loadConfig } from '../../src/config.js';
import { createArticleParser } from '../../src/content/parse-article.js';
import { planSiteBuild } from '../../src/output/plan-site-build.js';
import { everyJob, renderBatch } from '../../src/output/render-batch.js';
import type { SharedRenderer } from '../../src/output/shared-render.js';
import { compileSiteTemplates, readSiteTemplates } from '../../src/output/site-templates.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const DIST = path.join(REPOSITORY, 'dist');
const compiled = async <T>(relative: string): Promise<T> => {
  expect(existsSync(path.join(DIST, relative)), 'run `npx tsc -p .` first: these tests load dist/').toBe(true);
  return (await import(pathToFileURL(path.join(DIST, relative)).href)) as T;
};
const NEWEST = new Date('2025-07-24T03:30:00Z');
/** More than the spool's first 256 rows: its arrays grow once. */
const ARTICLES = 300;

let dir: string;
let renderer: SharedRenderer | undefined;
let closeSpool: (() => void) | undefined;
afterEach(async () => {
  await renderer?.close();
  renderer = undefined;
  closeSpool?.();
  closeSpool = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Every file under a folder by relative path, with its bytes as text (the build's manifest and temporary files left out with `siteOnly`). */
function tree(root: string, siteOnly = false): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (siteOnly && entry.name.startsWith('.')) continue;
    if (entry.isFile()) files.set(path.relative(root, path.join(entry.parentPath, entry.name)), readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
  }
  return files;
}

/**
 * Generated articles kept in a spool (the compiled one, as a build keeps them), the repository's
 * site and templates, and what a helper is given to make the same plan.
 */
async function buildInput(outputDir: string) {
  dir = mkdtempSync(path.join(tmpdir(), 'briefing-shared-render-'));
  const config = loadConfig(path.join(REPOSITORY, 'briefing.config.json'), {});
  const parser = createArticleParser({ topics: config.topics, timeZone: config.timeZone });
  const { openArticleSpool } = await compiled<typeof import('../../src/content/article-spool.js')>('content/article-spool.js');
  const spool = openArticleSpool(dir);
  closeSpool = () => spool.close();
  const articles = Array.from({ length: ARTICLES }, (_, offset) => {
    const generated = generateRecord(offset + 1, new Date(NEWEST.getTime() - offset * 3_600_000), { paragraphs: 2 });
    const parsed = parser.parse(generated.text, `content/${generated.name}`, generated.name.slice(0, -3));
    if (parsed.article === undefined) throw new Error(JSON.stringify(parsed.problems));
    return spool.keep(parsed.article);
  });
  const sources = await readSiteTemplates(path.join(REPOSITORY, 'templates'));
  const templates = compileSiteTemplates(sources);
  const plan = planSiteBuild({ articles, site: config, templates, buildKey: 'test', previous: undefined, existing: new Set() });
  const table = spool.tableOf(articles);
  if (table === undefined) throw new Error('an article outside the spool');
  const { title, description, siteUrl, language, direction, timeZone, author, topics, feed } = config;
  const setup = {
    outputDir: path.join(dir, outputDir),
    site: { title, description, siteUrl, language, direction, timeZone, author, topics, feed },
    templates: sources,
    templatesFolder: 'templates',
    buildKey: 'test',
    manifestText: undefined,
    existing: [],
    articles: table,
    expected: { rendered: plan.rendered, batches: plan.batches.length },
  };
  return { plan, setup };
}

/** Calls `finish` until the helper has done something of the batch (it may still be starting): its result, or what it threw. */
async function helperShare(renderer: SharedRenderer, finish: () => { rendered: number }): Promise<unknown> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if (finish().rendered > 0) return renderer.helperRendered;
    } catch (error) {
      return error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the helper thread did nothing in 30 s');
}

describe('rendering on two threads', () => {
  it('writes the very files one thread writes, whichever thread rendered them', async () => {
    const { startRenderHelper } = await compiled<typeof import('../../src/output/shared-render.js')>('output/shared-render.js');
    const { plan, setup } = await buildInput('shared');
    const alone = path.join(dir, 'alone');
    for (const batch of plan.batches) await renderBatch(batch, alone, () => true, everyJob());

    renderer = startRenderHelper(setup);
    expect(renderer).toBeDefined();
    const shared = renderer as SharedRenderer;
    // This thread takes nothing: the helper renders and writes every batch, pages and feeds alike.
    for (const number of plan.batches.keys()) {
      const begun = shared.begin(number);
      expect(await helperShare(shared, () => begun.finish())).toBeGreaterThan(0);
    }
    expect(shared.helperRendered).toBe(plan.rendered);
    const expected = tree(alone);
    expect(expected.size).toBe(plan.rendered);
    expect(tree(setup.outputDir)).toEqual(expected);
  });

  it('stops the build with the helper\'s own error, naming the file it could not write', async () => {
    const { startRenderHelper } = await compiled<typeof import('../../src/output/shared-render.js')>('output/shared-render.js');
    const { setup } = await buildInput('blocked');
    // A file where the article pages' folder should be.
    writeFileSync(setup.outputDir, 'not a folder');
    renderer = startRenderHelper({ ...setup, outputDir: path.join(setup.outputDir, 'inside') });
    const shared = renderer as SharedRenderer;
    const begun = shared.begin(0);
    const error = (await helperShare(shared, () => begun.finish())) as Error;
    expect(error.name).toBe('BriefingError');
    expect(error.message).toMatch(/^output: cannot write .*blocked.*: a file stands where a folder on its path should be/);
    expect((error as { code?: string }).code).toBe('write-failed');
  });

  it('a large build (two threads) killed while it renders leaves a site the next build completes to a clean build\'s bytes', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'briefing-render-kill-'));
    const content = path.join(dir, 'content');
    writeRecords(content, 600, { newest: NEWEST, spacingMinutes: 60, paragraphs: 2 });
    const killed = createPublication(path.join(dir, 'killed'), content);
    const articles = path.join(killed.outputDir, 'articles');
    const child = spawn(process.execPath, [cliPath(), 'build', '--config', killed.configFile], { cwd: killed.root, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    // Killed once a hundred article pages are there: the render (both threads) is under way.
    for (let written = 0; written < 100 && child.exitCode === null; await new Promise((resolve) => setTimeout(resolve, 2))) {
      written = existsSync(articles) ? readdirSync(articles).filter((name) => name.endsWith('.html')).length : 0;
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(readdirSync(articles).filter((name) => name.endsWith('.html')).length).toBeLessThan(600);

    const again = spawnSync(process.execPath, [cliPath(), 'build', '--config', killed.configFile], { cwd: killed.root, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    const clean = createPublication(path.join(dir, 'clean'), content);
    const fresh = spawnSync(process.execPath, [cliPath(), 'build', '--json', '--config', clean.configFile], { cwd: clean.root, encoding: 'utf8' });
    expect(fresh.status, fresh.stderr).toBe(0);
    // Every file rendered, by either thread, is counted as written.
    const summary = JSON.parse(fresh.stdout) as { rendered: number; written: number; unchanged: number };
    expect(summary.written).toBe(summary.rendered);
    expect(tree(killed.outputDir, true)).toEqual(tree(clean.outputDir, true));
  });
});
