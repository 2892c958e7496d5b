/**
 * The editions a reader can find and follow: `editions/index.html` (newest first, subject and date)
 * and the editions feeds, made from the records sent editions leave beside their web versions and
 * linked from the home page. Then every page, and the briefing's web version, in a real Chromium
 * with axe-core: one `<main>`, and nothing outside a landmark.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite } from '../../src/run/build-site.js';
import { parseConfig, readEnvironment, type Config } from '../../src/config.js';
import { loadBriefingTemplates } from '../../src/email/briefing-templates.js';
import { renderBriefing } from '../../src/email/render-briefing.js';
import { webVersionFiles } from '../../src/email/web-version.js';
import { publishEditions } from '../../src/output/publish-editions.js';
import { writeOutputFiles } from '../../src/output/write-output-files.js';
import { planSeedEdition, ROOT } from '../edition/fixtures.js';
import { jsonFeedErrors, readFeeds, validateAtom } from '../feed/feed-clients.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let dir: string;
let config: Config;
let output: string;
const read = (file: string): string => readFileSync(path.join(output, file), 'utf8');

const earlier = { id: '2025-07-22', date: '2025-07-22', slot: '2025-07-22T18:00:00.000Z', subject: 'Briefing, Tuesday 22 July 2025: <protests> & talks', preheader: 'The day before.' };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'briefing-editions-'));
  cpSync(path.join(ROOT, 'content'), path.join(dir, 'content'), { recursive: true });
  const file = JSON.parse(readFileSync(path.join(ROOT, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  delete file.sampleSubscribers;
  const configFile = path.join(dir, 'briefing.config.json');
  // One article on the home page: the other makes an archive page.
  writeFileSync(configFile, JSON.stringify({ ...file, feed: { items: 1, archivePageSize: 1 }, paths: { content: 'content', templates: path.join(ROOT, 'templates'), output: 'output', data: 'data' } }));
  config = parseConfig(readFileSync(configFile, 'utf8'), configFile, readEnvironment({}));
  output = config.paths.output;
  await buildSite(config);
  // What a run does after the build: the web version, then the edition's record and the index.
  const { edition } = await planSeedEdition(config);
  const briefing = await renderBriefing(edition, { config, templates: await loadBriefingTemplates(config.paths.templates) });
  await writeOutputFiles(output, webVersionFiles(config, briefing));
  await publishEditions(config, { edition: earlier });
  await publishEditions(config, { edition: { id: edition.id, date: edition.date, slot: edition.slot.toISOString(), subject: briefing.subject, preheader: briefing.preheader } });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the editions index and feeds', () => {
  it('lists the sent editions newest first with subject, date and a link to each web version', () => {
    const html = read('editions/index.html');
    const links = [...html.matchAll(/<h2><a href="([^"]+)">([^<]+)<\/a><\/h2>/g)].map((match) => [match[1], match[2]]);
    expect(links).toEqual([
      ['../editions/2025-07-23/', 'Briefing, Wednesday 23 July 2025: peace talks, protests and the front line'],
      ['../editions/2025-07-22/', 'Briefing, Tuesday 22 July 2025: &lt;protests&gt; &amp; talks'],
    ]);
    expect(html).toContain('<time datetime="2025-07-23T21:00:00+03:00">23 Jul 2025, 21:00 EEST</time>');
  });

  it('is linked, with the editions feeds, from the home page', () => {
    const home = read('index.html');
    for (const href of ['./editions/index.html', './editions/feed.xml', './editions/atom.xml', './editions/feed.json']) expect(home).toContain(`href="${href}"`);
  });

  it('publishes the editions as valid RSS, Atom and JSON feeds that feedparser reads, newest first', async () => {
    const [rss, atom] = await readFeeds([path.join(output, 'editions/feed.xml'), path.join(output, 'editions/atom.xml')]);
    for (const view of [rss, atom]) {
      expect(view?.reader.bozo).toBe(0);
      expect(view?.reader.entries.map((entry) => entry.link)).toEqual(['https://briefing.example.org/editions/2025-07-23/', 'https://briefing.example.org/editions/2025-07-22/']);
    }
    // Text in RSS, escaped HTML in Atom: the same words either way.
    expect(rss?.reader.entries[1]?.title.value).toBe(earlier.subject);
    expect(atom?.reader.entries[1]?.titleHtml?.text).toBe(earlier.subject);
    expect((await validateAtom([path.join(output, 'editions/atom.xml')])).code).toBe(0);
    const json = JSON.parse(read('editions/feed.json')) as { items: Array<{ url: string }> };
    expect(jsonFeedErrors(json)).toEqual([]);
    expect(json.items.map((item) => item.url)).toEqual(['https://briefing.example.org/editions/2025-07-23/', 'https://briefing.example.org/editions/2025-07-22/']);
  });

  it('writes the same bytes when published again, and leaves a preview (a folder without a record) out', async () => {
    const files = ['editions/index.html', 'editions/feed.xml', 'editions/atom.xml', 'editions/feed.json'];
    const before = files.map(read);
    await writeOutputFiles(output, new Map([['editions/2025-07-30/index.html', '<!doctype html><title>preview</title>']]));
    await publishEditions(config);
    expect(files.map(read)).toEqual(before);
  });

  it('names the file of a record it cannot read', async () => {
    await writeOutputFiles(output, new Map([['editions/2025-07-31/edition.json', '{"id": 3}']]));
    await expect(publishEditions(config)).rejects.toThrow(/^output: .*editions\/2025-07-31\/edition\.json: /);
    rmSync(path.join(output, 'editions/2025-07-31'), { recursive: true });
  });
});

describe('landmarks (axe-core in Chromium)', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser.close();
  });

  it.each(['index.html', 'archive/page-1.html', 'articles/2025-07-23-istanbul-talks-wrap.html', 'editions/index.html', 'editions/2025-07-23/index.html'])(
    '%s has one main landmark and all its content inside landmarks',
    async (file) => {
      const page = await browser.newPage();
      await page.goto(`file://${path.join(output, file)}`);
      await page.addScriptTag({ content: AXE });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe;
        const result = await axe.run(document, { runOnly: { type: 'rule', values: ['landmark-one-main', 'region'] } });
        return result.violations.map((violation) => `${violation.id} (${violation.nodes.length})`);
      });
      expect(violations).toEqual([]);
      await page.close();
    },
  );
});
