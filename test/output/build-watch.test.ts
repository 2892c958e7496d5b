/**
 * `briefing build --watch` end to end: the CLI (dist/, so run `npx tsc -p .` first) in a publication
 * of real files, edited while it runs; each of its builds must end as a fresh full build would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSite } from '../../src/run/build-site.js';
import { parseConfig, readEnvironment } from '../../src/config.js';
import { REPOSITORY, createBuildPublication, record } from './build-publication.js';

const CLI = path.join(REPOSITORY, 'dist/cli/main.js');
let dir: string;
let child: ChildProcess | undefined;

beforeEach(() => {
  dir = createBuildPublication('briefing-watch-', { ownTemplates: true });
});

afterEach(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
  }
  child = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The watch: `line` gives its next line, `next` its next build that did something (a save may come
 * as events far enough apart to make two builds, the second with nothing to do), and its end.
 */
function startWatch(): { line(): Promise<Record<string, unknown>>; next(): Promise<Record<string, unknown>>; exit: Promise<number | null>; stderr(): string } {
  const started = spawn(process.execPath, [CLI, 'build', '--watch', '--json'], { cwd: dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = started;
  let stderr = '';
  started.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const lines = createInterface({ input: started.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const exit = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
  return {
    async line() {
      const line = await Promise.race([lines.next(), exit.then(() => ({ done: true, value: undefined }))]);
      if (line.done === true || line.value === undefined) throw new Error(`the watch ended: ${stderr}`);
      return JSON.parse(line.value as string) as Record<string, unknown>;
    },
    async next() {
      const build = await this.line();
      return build.rendered === 0 && build.removed === 0 ? this.next() : build;
    },
    exit,
    stderr: () => stderr,
  };
}

/**
 * Every published file of a folder by relative path, with its bytes: not the dot files (the build's
 * notes, and the temporary files of the manifest the watch may be writing just after its report).
 */
function tree(folder: string): Array<[string, string]> {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort()
    .map((file) => [path.relative(folder, file), readFileSync(file, 'latin1')]);
}

async function fullBuild(): Promise<Array<[string, string]>> {
  rmSync(path.join(dir, 'full'), { recursive: true, force: true });
  rmSync(path.join(dir, 'full-data'), { recursive: true, force: true });
  const file = path.join(dir, 'full.config.json');
  await buildSite(parseConfig(readFileSync(file, 'utf8'), file, readEnvironment({})));
  return tree(path.join(dir, 'full'));
}

describe('briefing build --watch', () => {
  it('builds at the start, again after each edit, addition and removal of a record, each time what a fresh full build makes; stops on SIGINT with exit 0', async () => {
    const watch = startWatch();
    expect(await watch.next()).toMatchObject({ articles: 6, written: 19 });

    writeFileSync(path.join(dir, 'content/story-2.md'), record(2, 'Story two, corrected'));
    // An edit renders its page and the archive page that holds it, in three feed formats and HTML.
    expect(await watch.next()).toMatchObject({ articles: 6, rendered: 5, written: 5 });
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());
    expect(readFileSync(path.join(dir, 'output/articles/story-2.html'), 'utf8')).toContain('Story two, corrected');

    writeFileSync(path.join(dir, 'content/story-5.md'), record(5));
    expect(await watch.next()).toMatchObject({ articles: 7 });
    rmSync(path.join(dir, 'content/story-1.md'));
    expect(await watch.next()).toMatchObject({ articles: 6 });
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());

    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });

  it('reports a broken record with its file and line and goes on watching; the fix brings a build', async () => {
    const watch = startWatch();
    await watch.next();
    writeFileSync(path.join(dir, 'content/story-3.md'), record(3).replace('published: 2025-07-13T08:00:00+03:00', 'published: someday'));
    const failed = await watch.next();
    expect(String(failed.error)).toMatch(/content\/story-3\.md:3: published: /);
    const page = statSync(path.join(dir, 'output/articles/story-3.html')).mtimeMs;

    writeFileSync(path.join(dir, 'content/story-3.md'), record(3, 'Story three, fixed'));
    expect(await watch.next()).toMatchObject({ articles: 6, written: 5 });
    expect(statSync(path.join(dir, 'output/articles/story-3.html')).mtimeMs).not.toBe(page);
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());
    child?.kill('SIGTERM');
    expect(await watch.exit).toBe(0);
  });

  it('writes again a page removed by hand between two builds, though the listing of output/ it took while idle said it was there', async () => {
    const watch = startWatch();
    await watch.next();
    writeFileSync(path.join(dir, 'content/story-2.md'), record(2, 'Story two, corrected'));
    await watch.next();
    // Long enough for the watch to list output/ while it waits (some 150 ms after a build, see build-site.ts).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    rmSync(path.join(dir, 'output/articles/story-4.html'));
    rmSync(path.join(dir, 'output/archive/feed-1.xml'));
    writeFileSync(path.join(dir, 'content/story-3.md'), record(3, 'Story three, corrected'));
    expect(await watch.next()).toMatchObject({ articles: 6 });
    expect(existsSync(path.join(dir, 'output/articles/story-4.html'))).toBe(true);
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());
    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });

  it('gathers a burst of changes (a checkout of many records) into a few builds, not one per change, and ends as a full build', async () => {
    const watch = startWatch();
    await watch.next();
    const writes = 200;
    for (let index = 0; index < writes; index += 1) writeFileSync(path.join(dir, 'content', `burst-${index}.md`), record(1 + (index % 20), `Burst story ${index}`));
    let builds = 0;
    for (let last = await watch.next(); ; last = await watch.next()) {
      builds += 1;
      if (last.articles === 6 + writes) break;
    }
    // Changes during a build make one more after it; a burst of 200 writes makes a handful.
    expect(builds).toBeLessThan(writes / 10);
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());
    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });

  it('builds nothing for a change in the content folder that is not a record (the swap or backup file of an editor)', async () => {
    const watch = startWatch();
    await watch.next();
    writeFileSync(path.join(dir, 'content/.story-2.md.swp'), 'swap');
    writeFileSync(path.join(dir, 'content/story-2.md~'), 'backup');
    writeFileSync(path.join(dir, 'content/notes.txt'), 'notes');
    await new Promise((resolve) => setTimeout(resolve, 500));
    writeFileSync(path.join(dir, 'content/story-2.md'), record(2, 'Story two, corrected'));
    // The very next line is the edit's build: the other files made none.
    expect(await watch.line()).toMatchObject({ articles: 6, rendered: 5 });
    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });

  it('starts again with the configuration read anew when its file changes, and reports a configuration with problems without stopping', async () => {
    const watch = startWatch();
    await watch.next();
    const configFile = path.join(dir, 'briefing.config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, title: 'Renamed briefing' }));
    expect(await watch.next()).toMatchObject({ articles: 6, rendered: 19 });
    expect(readFileSync(path.join(dir, 'output/index.html'), 'utf8')).toContain('Renamed briefing');

    writeFileSync(configFile, JSON.stringify({ ...config, title: 'Renamed briefing', feed: { items: 'many' } }));
    expect(String((await watch.line()).error)).toMatch(/briefing\.config\.json:1: feed\.items: /);
    // Still watching, with the configuration it had.
    writeFileSync(path.join(dir, 'content/story-2.md'), record(2, 'Story two, corrected'));
    expect(await watch.next()).toMatchObject({ articles: 6, rendered: 5 });
    expect(readFileSync(path.join(dir, 'output/articles/story-2.html'), 'utf8')).toContain('Renamed briefing');
    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });

  it('reports a manifest that cannot be written and goes on watching; the next build renders the pending files again', async () => {
    const watch = startWatch();
    await watch.next();
    const manifest = path.join(dir, 'output/.build-manifest.json');
    // Written just after the build's report: wait for it, then put a folder in its way.
    for (let waited = 0; !existsSync(manifest) && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    rmSync(manifest);
    mkdirSync(path.join(manifest, 'in-the-way'), { recursive: true });
    writeFileSync(path.join(dir, 'content/story-2.md'), record(2, 'Story two, corrected'));
    // No manifest to read (a folder stands there): everything is rendered, then its write fails.
    expect(await watch.next()).toMatchObject({ articles: 6, rendered: 19 });
    expect(String((await watch.line()).error)).toMatch(/cannot write output\/\.build-manifest\.json/);
    rmSync(manifest, { recursive: true });
    writeFileSync(path.join(dir, 'content/story-3.md'), record(3, 'Story three, corrected'));
    expect(await watch.next()).toMatchObject({ articles: 6 });
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());
    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });

  it('follows a content folder replaced by another of its name (a checkout or sync that swaps the folder)', async () => {
    const watch = startWatch();
    await watch.next();
    cpSync(path.join(dir, 'content'), path.join(dir, 'content.new'), { recursive: true });
    writeFileSync(path.join(dir, 'content.new/story-2.md'), record(2, 'Story two, swapped in'));
    renameSync(path.join(dir, 'content'), path.join(dir, 'content.old'));
    renameSync(path.join(dir, 'content.new'), path.join(dir, 'content'));
    expect(await watch.next()).toMatchObject({ articles: 6 });
    writeFileSync(path.join(dir, 'content/story-3.md'), record(3, 'Story three, in the new folder'));
    expect(await watch.next()).toMatchObject({ articles: 6, rendered: 5 });
    expect(readFileSync(path.join(dir, 'output/articles/story-2.html'), 'utf8')).toContain('Story two, swapped in');
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());
    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });

  it('builds every page again when a template changes', async () => {
    const watch = startWatch();
    await watch.next();
    const template = path.join(dir, 'templates/article.hbs');
    writeFileSync(template, readFileSync(template, 'utf8').replace('</body>', '<p>watched</p></body>'));
    expect(await watch.next()).toMatchObject({ articles: 6, rendered: 19 });
    expect(readFileSync(path.join(dir, 'output/articles/story-4.html'), 'utf8')).toContain('<p>watched</p>');
    expect(tree(path.join(dir, 'output'))).toEqual(await fullBuild());
    child?.kill('SIGINT');
    expect(await watch.exit).toBe(0);
  });
});
