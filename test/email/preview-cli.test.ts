import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SEED_EDITION } from '../edition/fixtures.js';

/**
 * `briefing preview` as a user runs it (the built CLI, a publication in a temporary folder with
 * the real content and templates), its files checked by SpamAssassin and headless Chromium.
 */
const run = promisify(execFile);
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
let dir: string;
let configFile: string;
let editionDir: string;
let printed: { stdout: string; json: Record<string, unknown> };

async function preview(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, BRIEFING_SECRET: 'preview-test-secret-0123456789' };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'preview', '--config', configFile, ...args], { env, cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'briefing-preview-'));
  const config = JSON.parse(await readFile(path.join(ROOT, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  config.paths = { content: path.join(ROOT, 'content'), templates: path.join(ROOT, 'templates'), output: 'output', data: 'data' };
  delete config.sampleSubscribers;
  configFile = path.join(dir, 'briefing.config.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  editionDir = path.join(dir, 'output', 'editions', SEED_EDITION);
  const result = await preview('--date', SEED_EDITION, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  printed = { stdout: result.stdout, json: JSON.parse(result.stdout) as Record<string, unknown> };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('briefing preview', () => {
  it('prints the subject, the sections and the sizes, and writes the web version, the text and the message', async () => {
    expect(printed.json).toMatchObject({
      edition: SEED_EDITION,
      subject: 'Briefing, Wednesday 23 July 2025: peace talks, protests and the front line',
      sections: [
        { id: 'talks', title: 'Peace talks', stories: 2 },
        { id: 'protests', title: 'Protests in Ukraine', stories: 2 },
        { id: 'war', title: 'On the front line', stories: 1 },
      ],
      maxHtmlBytes: 102000,
    });
    const bytes = printed.json.bytes as { html: number; text: number; eml: number };
    expect(bytes.html).toBeLessThan(102000);
    expect((await stat(path.join(editionDir, 'briefing.eml'))).size).toBe(bytes.eml);
    expect((await readdir(editionDir)).sort()).toEqual(['briefing.eml', 'briefing.txt', 'index.html']);

    const human = await preview('--date', SEED_EDITION);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Edition 2025-07-23 \(2025-07-23\)\nSubject: Briefing, Wednesday 23 July 2025: peace talks, protests and the front line\n  Peace talks: 2 stories, \d+ paragraphs\n  Protests in Ukraine: 2 stories, \d+ paragraphs\n  On the front line: 1 story, \d+ paragraphs\nHTML \d+\.\d KB of 102\.0 KB/);
  });

  it('gives the web version no tokens, no personal links and no link to itself, but a subscribe link, and records nothing', async () => {
    const html = await readFile(path.join(editionDir, 'index.html'), 'utf8');
    const text = await readFile(path.join(editionDir, 'briefing.txt'), 'utf8');
    for (const body of [html, text]) {
      expect(body).not.toMatch(/briefing-[0-9a-f]{24}-/);
      expect(body).not.toMatch(/unsubscribe|view in browser|in your browser/i);
      expect(body).not.toContain('/editions/2025-07-23/');
    }
    expect(text).toContain('https://briefing.example.org/#subscribe');
    // A page of the site links into it relatively (editions/D/ is two folders down).
    expect(html).toMatch(/<a href="\.\.\/\.\.\/#subscribe"[^>]*>Subscribe<\/a>/);
    const status = await run('sqlite3', [path.join(dir, 'data', 'briefing.db'), 'select count(*) from editions']);
    expect(status.stdout.trim()).toBe('0');
  });

  it('writes a complete multipart message that SpamAssassin scores under 2.0 without MPART_ALT_DIFF or MIME_HTML_ONLY', async () => {
    const eml = path.join(editionDir, 'briefing.eml');
    const raw = await readFile(eml, 'utf8');
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(raw).toMatch(/^Content-Type: text\/plain; charset=utf-8/m);
    expect(raw).toMatch(/^Content-Type: text\/html; charset=utf-8/m);
    expect(raw).toMatch(/^To: Sample Reader <reader@example\.com>/m);
    const { stdout } = await run('sh', ['-c', 'spamassassin -L -t -x < "$1"', 'sh', eml], { maxBuffer: 16 * 1024 * 1024 });
    const header = /^X-Spam-Status: (.*(?:\n[ \t].*)*)/m.exec(stdout)?.[1]?.replace(/\s+/g, ' ') ?? '';
    const score = Number(/score=(-?[\d.]+)/.exec(header)?.[1]);
    const tests = (/tests=(\S*)/.exec(header)?.[1] ?? '').split(',');
    expect(header).not.toBe('');
    expect(score).toBeLessThan(2.0);
    expect(tests).not.toContain('MPART_ALT_DIFF');
    expect(tests).not.toContain('MIME_HTML_ONLY');
    expect(tests).not.toContain('HTML_FONT_LOW_CONTRAST');
  });

  it('says an edition with nothing new would be skipped, and writes nothing for it', async () => {
    const result = await preview('--date', '2025-07-22');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^edition 2025-07-22: nothing new between 2025-07-20 21:00 EEST and 2025-07-22 21:00 EEST, so it would be skipped/);
    expect(existsSync(path.join(dir, 'output', 'editions', '2025-07-22'))).toBe(false);
  });

  it('refuses a date that does not exist', async () => {
    const result = await preview('--date', '2025-02-30');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('edition: --date "2025-02-30" is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:mm)\n');
  });

  it('names the partial and line of a broken MJML tag (MJML compiles in its own thread here)', async () => {
    const templates = path.join(dir, 'broken-templates');
    await cp(path.join(ROOT, 'templates'), templates, { recursive: true });
    const story = path.join(templates, 'partials', 'story.mjml');
    await writeFile(story, (await readFile(story, 'utf8')).replace('<mj-text css-class="meta">', '<mj-txt css-class="meta">').replace('</mj-text>\n    {{#each parts}}', '</mj-txt>\n    {{#each parts}}'));
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { paths: Record<string, string> };
    const brokenConfig = path.join(dir, 'broken.config.json');
    await writeFile(brokenConfig, JSON.stringify({ ...config, paths: { ...config.paths, templates } }));
    const result = await preview('--date', SEED_EDITION, '--config', brokenConfig);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^email: .*does not compile with MJML/);
    expect(result.stderr).toMatch(/^email: broken-templates\/partials\/story\.mjml:6: mj-txt: /m);
  });
});

describe('the web version in Chromium', () => {
  let browser: Browser;
  /** Kept after the run (unlike the publication folder) so a person can look at them. */
  const shots = (): string => path.join(tmpdir(), 'briefing-web-version');

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser.close();
  });

  it.each([
    [390, 'light'],
    [1280, 'light'],
    [390, 'dark'],
  ] as const)('fits a %i px wide %s screen without horizontal scrolling', async (width, scheme) => {
    const page = await browser.newPage({ viewport: { width, height: 844 }, colorScheme: scheme });
    await page.goto(`file://${path.join(editionDir, 'index.html')}`);
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      lang: document.documentElement.lang,
      dir: document.documentElement.dir,
      title: document.title,
      headings: ['h1', 'h2', 'h3'].map((tag) => document.querySelectorAll(tag).length),
      imagesWithoutAlt: document.querySelectorAll('img:not([alt]), img[alt=""]').length,
      preheaderShown: (document.querySelector('.preheader') as HTMLElement | null)?.offsetHeight ?? -1,
      background: getComputedStyle(document.querySelector('.card td, .card') as Element).backgroundColor,
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
    const sections = printed.json.sections as Array<{ stories: number }>;
    // Each of the two seed stories is headed once, in its main section.
    const headings = [1, sections.length, 2];
    expect(layout).toMatchObject({ lang: 'en-GB', dir: 'ltr', title: printed.json.subject, headings, imagesWithoutAlt: 0, preheaderShown: 0 });
    const [red = 0, green = 0, blue = 0] = (layout.background.match(/\d+/g) ?? []).map(Number);
    const light = (red + green + blue) / 3 > 128;
    expect(light).toBe(scheme === 'light');
    const file = path.join(shots(), `web-version-${width}-${scheme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect((await stat(file)).size).toBeGreaterThan(10_000);
    await page.close();
  });
});
