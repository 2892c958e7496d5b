/**
 * The built pages in a real browser (Debian's chromium through playwright-core): served with a strict
 * Content-Security-Policy, they load their style sheet and run nothing inline; at a 390 px wide phone
 * viewport nothing scrolls sideways; dark mode follows prefers-color-scheme.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite } from '../../src/run/build-site.js';
import { parseConfig, readEnvironment } from '../../src/config.js';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const LONG_WORD = `https://example.org/${'a-very-long-path-segment'.repeat(12)}`;
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.xml': 'application/xml', '.json': 'application/json' };

let dir: string;
let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'briefing-browser-'));
  cpSync(path.join(REPOSITORY, 'content'), path.join(dir, 'content'), { recursive: true });
  writeFileSync(
    path.join(dir, 'content', 'long-words.md'),
    ['---', `title: Unbreakable ${'Wordwithoutanyspaces'.repeat(8)}`, 'published: 2025-07-24T08:00:00+03:00', 'source: Test Wire', '---', `See ${LONG_WORD} for details.`, ''].join('\n'),
  );
  const file = JSON.parse(readFileSync(path.join(REPOSITORY, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  delete file.sampleSubscribers;
  const configFile = path.join(dir, 'briefing.config.json');
  // Two articles on the home page, so the third makes an archive page with its links to the next pages.
  const feed = { items: 2, archivePageSize: 2 };
  writeFileSync(configFile, JSON.stringify({ ...file, feed, paths: { content: 'content', templates: path.join(REPOSITORY, 'templates'), output: 'output', data: 'data' } }));
  await buildSite(parseConfig(readFileSync(configFile, 'utf8'), configFile, readEnvironment({})));

  const root = path.join(dir, 'output');
  server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(`${root}${path.sep}`)) {
      response.writeHead(400).end();
      return;
    }
    readFile(file).then(
      (bytes) => response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP }).end(bytes),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a page at phone size and collects every console error (CSP violations among them). */
async function open(pathname: string, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme });
  const errors: string[] = [];
  // The browser asks for /favicon.ico on its own; the site has none, and that 404 is not the page's doing.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  const response = await page.goto(`${origin}${pathname}`);
  expect(response?.status()).toBe(200);
  return { page, errors };
}

const PAGES = ['/', '/archive/page-1.html', '/articles/2025-07-23-istanbul-talks-wrap.html', '/articles/long-words.html'];

describe('site pages in Chromium', () => {
  it.each(PAGES)('%s loads its style sheet under a strict CSP without a single violation', async (pathname) => {
    const { page, errors } = await open(pathname);
    const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    expect(font).toContain('Georgia');
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  it.each(PAGES)('%s does not scroll sideways at 390 px', async (pathname) => {
    const { page } = await open(pathname);
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth }));
    expect(widths.viewport).toBe(390);
    expect(widths.scroll).toBeLessThanOrEqual(390);
    await page.close();
  });

  it('follows prefers-color-scheme: dark', async () => {
    const light = await open('/');
    const dark = await open('/', 'dark');
    const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background(light.page)).toBe('rgb(253, 253, 252)');
    expect(await background(dark.page)).toBe('rgb(20, 20, 22)');
    await light.page.close();
    await dark.page.close();
  });

  it('offers the three feeds for autodiscovery and a subscribe form a phone can fill in', async () => {
    const { page } = await open('/');
    const feeds = await page.$$eval('link[rel="alternate"]', (links) => links.map((link) => link.getAttribute('type')));
    expect(feeds).toEqual(['application/rss+xml', 'application/atom+xml', 'application/feed+json']);
    const input = page.locator('form input[name="address"]');
    expect(await input.getAttribute('type')).toBe('email');
    const box = await input.boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(390);
    await page.close();
  });
});
