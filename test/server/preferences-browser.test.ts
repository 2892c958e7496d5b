/**
 * The preference page in a real browser (Debian's chromium through playwright-core) against the app
 * on a loopback socket and a real SQLite store: a reader comes from the unsubscribe page, unticks a
 * topic, pauses, saves, and the store has it; then leaves with "Unsubscribe from everything". The page
 * is checked with axe-core, and nothing on it may break the Content-Security-Policy.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createToken } from '../../src/delivery/tokens.js';
import { listen, type RunningServer } from '../../src/server/listen.js';
import { createPublication, freePort, openTestServer, REPOSITORY, TEST_SECRET, type TestPublication, type TestServer } from './support.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const READER = 'reader@example.org';

let publication: TestPublication;
let server: TestServer;
let running: RunningServer;
let browser: Browser;
let siteUrl: string;

beforeAll(async () => {
  const port = await freePort();
  siteUrl = `http://127.0.0.1:${port}/`;
  publication = createPublication({ siteUrl });
  // The pages link the site's style sheet; a build would write it, this test needs nothing else of one.
  copyFileSync(path.join(REPOSITORY, 'templates/style.css'), path.join(publication.output, 'style.css'));
  server = await openTestServer(publication);
  running = await listen(server.app, { port, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
});

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await server?.close();
  publication?.cleanup();
});

it('from the unsubscribe page to the preference page: untick a topic, pause, save, then unsubscribe from everything', async () => {
  await server.store.addSubscribers([{ address: READER, status: 'active', source: 'cli' }], server.clock.now());
  const reader = (await server.store.findSubscriber(READER))!;
  const page = await browser.newPage();
  const problems: string[] = [];
  // Console errors (a CSP violation is one), script errors and failed loads.
  page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') problems.push(`${response.status()} ${response.url()}`);
  });

  // The unsubscribe link of a briefing offers the preference page instead.
  await page.goto(`${siteUrl}unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`);
  await page.getByRole('link', { name: 'Choose your topics or pause the briefing' }).click();
  await page.locator('h1', { hasText: 'Your briefing' }).waitFor();
  for (const topic of ['Peace talks', 'Protests in Ukraine', 'On the front line']) expect(await page.getByLabel(topic).isChecked()).toBe(true);

  // Every check of axe-core: labels, contrast, landmarks, names of the buttons.
  // Through DevTools, as the page's CSP (no script at all) would refuse a script tag.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe;
    const result = await axe.run(document);
    return result.violations.map((violation) => `${violation.id} (${violation.nodes.length})`);
  });
  expect(violations).toEqual([]);

  await page.getByLabel('On the front line').uncheck();
  await page.getByLabel(/Pause the briefing/).check();
  await Promise.all([page.waitForURL(/\/preferences\?token=.+&saved=1$/), page.getByRole('button', { name: 'Save' }).click()]);
  await page.getByRole('status').filter({ hasText: 'Your choices are saved.' }).waitFor();
  expect(await page.getByLabel('On the front line').isChecked()).toBe(false);
  expect(await page.getByLabel(/Pause the briefing/).isChecked()).toBe(true);
  expect(await server.store.getSubscriber(reader.id)).toMatchObject({ status: 'active', topics: ['protests', 'talks'], pausedAt: server.clock.now() });

  // Unticking every topic is refused with a page that says what to do instead.
  await page.getByLabel('Peace talks').uncheck();
  await page.getByLabel('Protests in Ukraine').uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').filter({ hasText: 'Choose at least one topic, or unsubscribe' }).waitFor();
  expect((await server.store.getSubscriber(reader.id))?.topics).toEqual(['protests', 'talks']);

  await page.getByRole('button', { name: 'Unsubscribe from everything' }).click();
  await page.locator('h1', { hasText: 'You are unsubscribed' }).waitFor();
  expect(await server.store.getSubscriber(reader.id)).toMatchObject({ status: 'unsubscribed', statusReason: 'preference page' });

  // The preference link now says the address left.
  await page.goto(`${siteUrl}preferences?token=${createToken(TEST_SECRET, 'preferences', reader)}`);
  await page.locator('h1', { hasText: 'No longer subscribed' }).waitFor();

  // Nothing broke the CSP or threw; the one failed load is the refused form above.
  expect(problems).toEqual([`400 ${siteUrl}preferences`]);
  await page.close();
});
