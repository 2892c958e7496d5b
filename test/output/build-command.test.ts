/**
 * `briefing build` end to end: the real record loader on Markdown files, real files in a temporary
 * output folder; the CLI itself (dist/, so run `npx tsc -p .` first) where its exit code and output
 * matter, the same build function in process where only the files do (a process start costs seconds).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSite } from '../../src/run/build-site.js';
import { parseConfig, readEnvironment } from '../../src/config.js';
import { readFeeds, validateAtom } from '../feed/feed-clients.js';
import { withoutPermissionOverride } from '../support/without-permission-override.js';
import { REPOSITORY, createBuildPublication, record } from './build-publication.js';
import { elementsOf, select } from './html-view.js';

const CLI = path.join(REPOSITORY, 'dist/cli/main.js');
let dir: string;

function createPublication(): void {
  dir = createBuildPublication('briefing-build-');
}

/** Runs the CLI in the publication; `bound` runs it bound by file permissions even as root. */
function briefing(args: string[], options: SpawnSyncOptions = {}, bound = false): { status: number | null; stdout: string; stderr: string } {
  const child = bound ? withoutPermissionOverride(process.execPath, [CLI, ...args]) : { command: process.execPath, args: [CLI, ...args] };
  const run = spawnSync(child.command, child.args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH }, ...options });
  return { status: run.status, stdout: String(run.stdout), stderr: String(run.stderr) };
}

function build(...args: string[]): string {
  const run = briefing(['build', ...args]);
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

/** Every file under a folder with its bytes and mtime. */
function snapshot(folder: string): Map<string, { bytes: string; mtime: number }> {
  const files = readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  return new Map(files.map((file) => [path.relative(folder, file), { bytes: readFileSync(file, 'latin1'), mtime: statSync(file).mtimeMs }]));
}

const bytesOf = (files: Map<string, { bytes: string }>): Array<[string, string]> => [...files].map(([file, { bytes }]) => [file, bytes]);

/** Builds in process with a config of the publication; returns the summary. */
function buildInProcess(configName = 'briefing.config.json'): ReturnType<typeof buildSite> {
  const file = path.join(dir, configName);
  return buildSite(parseConfig(readFileSync(file, 'utf8'), file, readEnvironment({})));
}

/** A full build of the current content into a fresh folder, to compare the incremental one with. */
async function fullBuild(): Promise<Map<string, { bytes: string; mtime: number }>> {
  rmSync(path.join(dir, 'full'), { recursive: true, force: true });
  rmSync(path.join(dir, 'full-data'), { recursive: true, force: true });
  await buildInProcess('full.config.json');
  return snapshot(path.join(dir, 'full'));
}

beforeEach(createPublication);
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('briefing build', () => {
  it('writes feeds, archive, pages and style sheet from the content records, then nothing when nothing changed', async () => {
    const out = build();
    expect(out).toMatch(/^Built 6 articles into output\/: 19 files written, 0 unchanged, 0 up to date, 0 removed\n$/);
    const files = [...snapshot(path.join(dir, 'output')).keys()];
    expect(files).toEqual(
      expect.arrayContaining([
        'feed.xml',
        'atom.xml',
        'feed.json',
        'index.html',
        'style.css',
        'archive/atom-1.xml',
        'archive/atom-2.xml',
        'archive/page-1.html',
        'archive/page-2.html',
        'articles/story-1.html',
      ]),
    );
    expect(files.filter((file) => file.startsWith('articles/'))).toHaveLength(6);
    const atomFiles = ['atom.xml', 'archive/atom-1.xml', 'archive/atom-2.xml'].map((file) => path.join(dir, 'output', file));
    expect((await validateAtom(atomFiles)).code).toBe(0);
    const [current] = await readFeeds([path.join(dir, 'output/feed.xml')]);
    expect(current?.reader.bozo).toBe(0);
    const titles = current?.reader.entries.map((entry) => entry.title.value);
    expect(titles).toEqual([
      'Istanbul talks end in 40 minutes with more prisoner swaps but no ceasefire deal',
      'Russia and Ukraine return to Istanbul for their first direct talks in seven weeks',
    ]);

    const first = snapshot(path.join(dir, 'output'));
    expect(build()).toMatch(/: 0 files written, 0 unchanged, 19 up to date, 0 removed\n$/);
    expect(snapshot(path.join(dir, 'output'))).toEqual(first);
  });

  it('after one record changes, rewrites only what shows it and ends byte-identical to a full build', async () => {
    await buildInProcess();
    const before = snapshot(path.join(dir, 'output'));
    writeFileSync(path.join(dir, 'content/story-2.md'), record(2, 'Story two, corrected'));
    const summary = await buildInProcess();
    // Its page and the archive page it sits on (three feed formats and the HTML page); the home page
    // lists only the newest articles, so it stays as it was.
    expect(summary).toMatchObject({ articles: 6, rendered: 5, reused: 14, written: 5, removed: 0 });
    const after = snapshot(path.join(dir, 'output'));
    const changed = [...after.keys()].filter((file) => after.get(file)?.bytes !== before.get(file)?.bytes).sort();
    expect(changed).toEqual(['.build-manifest.json', 'archive/atom-1.xml', 'archive/feed-1.json', 'archive/feed-1.xml', 'archive/page-1.html', 'articles/story-2.html']);
    for (const file of ['articles/story-1.html', 'feed.xml', 'archive/atom-2.xml', 'archive/page-2.html', 'index.html']) expect(after.get(file)?.mtime, file).toBe(before.get(file)?.mtime);
    expect(bytesOf(after)).toEqual(bytesOf(await fullBuild()));
  });

  it('renders again the files a build that stopped halfway had listed as pending, though the manifest vouches for them', async () => {
    await buildInProcess();
    const page = path.join(dir, 'output/articles/story-2.html');
    const good = readFileSync(page, 'utf8');
    // As a build killed after writing an edit's page finds it, the edit undone since: the old manifest's key matches the record again.
    writeFileSync(page, 'the page of an edit since undone');
    writeFileSync(path.join(dir, 'output/.build-pending.json'), JSON.stringify(['articles/story-2.html']));
    expect(await buildInProcess()).toMatchObject({ rendered: 1, written: 1 });
    expect(readFileSync(page, 'utf8')).toBe(good);
    expect(readdirSync(path.join(dir, 'output'))).not.toContain('.build-pending.json');
    // Without the list the manifest is believed: the check above can fail.
    writeFileSync(page, 'the page of an edit since undone');
    expect(await buildInProcess()).toMatchObject({ rendered: 0 });
    expect(readFileSync(page, 'utf8')).toBe('the page of an edit since undone');
  });

  it('removes a page a stopped build had listed as pending once its record is gone', async () => {
    await buildInProcess();
    writeFileSync(path.join(dir, 'output/.build-pending.json'), JSON.stringify(['articles/story-4.html']));
    unlinkSync(path.join(dir, 'content/story-4.md'));
    expect(await buildInProcess()).toMatchObject({ removed: 1 });
    expect(readdirSync(path.join(dir, 'output/articles'))).not.toContain('story-4.html');
    expect(bytesOf(snapshot(path.join(dir, 'output'))).filter(([file]) => !file.startsWith('.'))).toEqual(bytesOf(await fullBuild()).filter(([file]) => !file.startsWith('.')));
  });

  it('removes the page of a new record that a stopped build had written, once the record is gone', async () => {
    await buildInProcess();
    // A build killed after writing the page of a record added since, before its manifest: the old manifest never named the page.
    writeFileSync(path.join(dir, 'output/articles/story-9.html'), 'the page of a record since removed');
    writeFileSync(path.join(dir, 'output/.build-pending.json'), JSON.stringify(['articles/story-9.html', 'archive/page-9.html']));
    expect(await buildInProcess()).toMatchObject({ rendered: 0, removed: 1 });
    expect(readdirSync(path.join(dir, 'output/articles'))).not.toContain('story-9.html');
    expect(bytesOf(snapshot(path.join(dir, 'output'))).filter(([file]) => !file.startsWith('.'))).toEqual(bytesOf(await fullBuild()).filter(([file]) => !file.startsWith('.')));
  });

  it('removes the temporary files a killed build left (its process gone, or older than a write takes), and keeps a live build\'s', async () => {
    await buildInProcess();
    const articles = path.join(dir, 'output/articles');
    // A process that has ended: a child run to its end, whose pid no running process has any more.
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const deadBuild = `.story-1.html.${ended}-${host}-0123456789ab-1.tmp`;
    const liveBuild = `.story-2.html.${process.ppid}-${host}-0123456789ab-1.tmp`;
    const oldLiveBuild = `.story-3.html.${process.ppid}-${host}-0123456789ab-2.tmp`;
    // Another host's build, its pid meaningless here: judged by its age alone.
    const otherHost = `.story-5.html.${ended}-00000000-0123456789ab-1.tmp`;
    const oldOtherHost = `.story-6.html.${ended}-00000000-0123456789ab-2.tmp`;
    const notOurs = '.story-4.html.swp.tmp';
    for (const name of [deadBuild, liveBuild, oldLiveBuild, otherHost, oldOtherHost, notOurs]) writeFileSync(path.join(articles, name), 'half a page');
    const longAgo = new Date(Date.now() - 20 * 60_000);
    for (const name of [oldLiveBuild, oldOtherHost]) utimesSync(path.join(articles, name), longAgo, longAgo);
    await buildInProcess();
    const left = readdirSync(articles).filter((name) => name.endsWith('.tmp'));
    expect(left.sort()).toEqual([liveBuild, otherHost, notOurs].sort());
  });

  it('takes a damaged pending list as vouching for nothing: everything is rendered again', async () => {
    await buildInProcess();
    writeFileSync(path.join(dir, 'output/.build-pending.json'), '["articles/story-2.ht');
    expect(await buildInProcess()).toMatchObject({ rendered: 19, written: 0, unchanged: 19 });
    expect(bytesOf(snapshot(path.join(dir, 'output')))).toEqual(bytesOf(await fullBuild()));
  });

  it('lists the newest articles on the home page and every other one on the archive pages, linked from page to page', async () => {
    await buildInProcess();
    const output = path.join(dir, 'output');
    // From the home page, follow "Older articles" to the end, then "Newer articles" back home.
    const visit = (page: string) => {
      const elements = elementsOf(readFileSync(path.join(output, page), 'utf8'));
      const resolve = (href: string | undefined) => (href === undefined ? undefined : path.posix.normalize(path.posix.join(path.posix.dirname(page), href === '../' ? '../index.html' : href)));
      const listed = select(elements, 'a').filter((link) => link.ancestors.includes('ol')).map((link) => resolve(link.attributes.href));
      const nav = select(elements, 'a').filter((link) => link.ancestors.includes('nav'));
      const link = (text: string) => resolve(nav.find((anchor) => anchor.text === text)?.attributes.href);
      return { listed, older: link('Older articles'), newer: link('Newer articles') };
    };
    const pages: string[] = [];
    const listed: Array<string | undefined> = [];
    for (let page: string | undefined = 'index.html'; page !== undefined; page = visit(page).older) {
      pages.push(page);
      listed.push(...visit(page).listed);
    }
    expect(pages).toEqual(['index.html', 'archive/page-2.html', 'archive/page-1.html']);
    expect(pages.map((page) => visit(page).newer)).toEqual([undefined, 'index.html', 'archive/page-2.html']);
    expect(listed).toEqual(
      ['2025-07-23-istanbul-talks-wrap', '2025-07-23-istanbul-talks-preview', 'story-4', 'story-3', 'story-2', 'story-1'].map((id) => `articles/${id}.html`),
    );
  });

  it('removes the page of a deleted record and stays equal to a full build', async () => {
    await buildInProcess();
    unlinkSync(path.join(dir, 'content/story-4.md'));
    const summary = await buildInProcess();
    expect(summary.removed).toBe(1);
    const after = snapshot(path.join(dir, 'output'));
    expect(after.has('articles/story-4.html')).toBe(false);
    expect(bytesOf(after)).toEqual(bytesOf(await fullBuild()));
  });

  it('builds the site as of --date, leaving out later articles', () => {
    const summary = JSON.parse(build('--date', '2025-07-12', '--json')) as Record<string, number>;
    expect(summary.articles).toBe(2);
    expect(readdirSync(path.join(dir, 'output/articles')).sort()).toEqual(['story-1.html', 'story-2.html']);
  });

  it('refuses a --date that is not a date', () => {
    const run = briefing(['build', '--date', 'tomorrow']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('cli: --date must be a date such as 2025-07-23, not "tomorrow"');
  });

  it('reports a bad record with file, line and field, exits 1 and writes nothing', () => {
    writeFileSync(path.join(dir, 'content/story-3.md'), record(3).replace('published: 2025-07-13T08:00:00+03:00', 'published: not a date'));
    const run = briefing(['build']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/content: content\/story-3\.md:3: published: /);
    expect(readdirSync(path.join(dir))).not.toContain('output');
  });

  it('refuses a record over content.maxRecordBytes (a 50 MB body took 1.4 GB to build) naming the file, its size and the limit, exit 1', () => {
    writeFileSync(path.join(dir, 'content/story-3.md'), record(3) + 'All talk. '.repeat(210_000));
    const run = briefing(['build']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/content: content\/story-3\.md: the record is 2100\d{3} bytes, over the limit of 2000000 \(content\.maxRecordBytes\)/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(path.join(dir))).not.toContain('output');
  });

  it('refuses a record over a lowered content.maxRecordBytes even when the article cache holds it unchanged', () => {
    build();
    const configFile = path.join(dir, 'briefing.config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    const file = 'content/2025-07-23-istanbul-talks-wrap.md';
    const size = statSync(path.join(dir, file)).size;
    writeFileSync(configFile, JSON.stringify({ ...config, content: { maxRecordBytes: size - 1 } }));
    const run = briefing(['build']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`content: ${file}: the record is ${size} bytes, over the limit of ${size - 1} (content.maxRecordBytes)`);
  });

  it('fails clearly on a read-only output folder and leaves the previous files intact', async () => {
    await buildInProcess();
    writeFileSync(path.join(dir, 'content/story-1.md'), record(1, 'Story one, corrected'));
    const before = snapshot(path.join(dir, 'output'));
    const output = path.join(dir, 'output');
    // Root writes anywhere, so the command runs without the capabilities that override permissions.
    for (const folder of [output, path.join(output, 'articles'), path.join(output, 'archive')]) chmodSync(folder, 0o555);
    try {
      const run = briefing(['build'], {}, true);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^output: cannot write output\/\S+: permission denied \(EACCES\); the previous file is left as it was\n$/);
      expect(snapshot(output)).toEqual(before);
    } finally {
      for (const folder of [output, path.join(output, 'articles'), path.join(output, 'archive')]) chmodSync(folder, 0o755);
    }
  });
});
