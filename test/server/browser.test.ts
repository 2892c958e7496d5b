/**
 * The whole web side in a real browser (Debian's chromium through playwright-core), every part real:
 * `briefing build` writes the front page, `briefing serve` runs as its own process, mail goes to the
 * in-process SMTP server, `briefing send` sends the editions. A reader subscribes on the front page,
 * confirms from the emailed link, receives the next edition, unsubscribes on the page its link opens,
 * and gets nothing after that while another subscriber still does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { confirmationLink, createPublication, freePort, readMail, REPOSITORY, TEST_SECRET, type ReceivedMail, type TestPublication } from './support.js';

const CLI = path.join(REPOSITORY, 'dist/cli/main.js');
const READER = 'reader@example.org';
const OTHER = 'other@example.org';

let smtp: SmtpTestServer;
let publication: TestPublication;
let serve: ChildProcess | undefined;
let browser: Browser | undefined;
let siteUrl: string;
let env: NodeJS.ProcessEnv;

/** Runs a CLI command to its end; asynchronously, for the SMTP server lives in this process. */
function cli(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args, '--config', publication.configFile], { env, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`briefing ${args.join(' ')} failed:\n${stdout}\n${stderr}`, { cause: error })) : resolve(),
    );
  });
}

/** Waits until the SMTP server has accepted `count` messages after `from` (the confirmation goes out after the response), then reads them. */
async function mailAfter(from: number, count: number): Promise<ReceivedMail[]> {
  for (let waited = 0; smtp.messages.length < from + count && waited < 15_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return readMail(smtp, from);
}

async function statusOf(address: string): Promise<string | undefined> {
  const store = await openStore(publication.config);
  try {
    return (await store.findSubscriber(address))?.status;
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  smtp = await startSmtpTestServer({ keepRaw: true });
  const port = await freePort();
  siteUrl = `http://127.0.0.1:${port}/`;
  // The second edition has nothing new to tell; it goes out anyway, so who gets it shows.
  publication = createPublication({ siteUrl, smtpUrl: smtp.url, edition: { sendWhenEmpty: true } });
  env = { PATH: process.env.PATH, BRIEFING_SECRET: TEST_SECRET, BRIEFING_SMTP_URL: smtp.url };
  await cli('build');
  await cli('subscribers', 'add', OTHER);

  serve = spawn(process.execPath, [CLI, 'serve', '--config', publication.configFile, '--port', String(port), '--host', '127.0.0.1'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    serve!.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    serve!.stdout!.on('data', (chunk: Buffer) => chunk.toString('utf8').includes('listening on') && resolve());
    serve!.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
});

afterAll(async () => {
  await browser?.close();
  if (serve && serve.exitCode === null) {
    const exited = new Promise((resolve) => serve!.once('exit', resolve));
    serve.kill('SIGTERM');
    await exited;
  }
  await smtp?.close();
  publication?.cleanup();
});

it('subscribe on the front page, confirm from the email, get the next edition, unsubscribe from its link, get nothing after', async () => {
  const page = await browser!.newPage();
  const problems: string[] = [];
  // Console errors (a CSP violation is one), script errors and failed loads; the URLs of the last.
  page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('response', (response) => {
    // The site has no favicon; the browser asks for one on its own.
    if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') problems.push(`${response.status()} ${response.url()}`);
  });

  // Subscribe with the front page's form.
  await page.goto(siteUrl);
  const form = page.locator('form[action$="subscribe"]');
  await form.locator('[name="address"]').fill(READER);
  let mailSeen = smtp.messages.length;
  await Promise.all([page.waitForURL(`${siteUrl}subscribe/sent`), form.locator('button[type="submit"], input[type="submit"]').first().click()]);
  expect(await page.locator('h1').textContent()).toBe('Check your inbox');
  // The form's POST was answered with a redirect: reloading shows the page again, it posts nothing.
  await page.reload();
  expect(await page.locator('h1').textContent()).toBe('Check your inbox');

  // Open the link of the confirmation email; only the button confirms.
  const [confirmation] = await mailAfter(mailSeen, 1);
  expect(await statusOf(READER)).toBe('pending');
  expect(confirmation?.to).toBe(READER);
  const link = confirmationLink(confirmation!);
  expect(link.startsWith(`${siteUrl}confirm?token=`)).toBe(true);
  await page.goto(link);
  expect(await page.locator('h1').textContent()).toBe('Confirm your subscription');
  expect(await statusOf(READER)).toBe('pending');
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Confirm subscription' }).click()]);
  await page.locator('h1', { hasText: 'You are subscribed' }).waitFor();
  expect(await statusOf(READER)).toBe('active');

  // The next edition reaches the new subscriber (and the other one).
  mailSeen = smtp.messages.length;
  // `send` returns once the SMTP server accepted every message: nothing is still on its way.
  await cli('send', '--date', '2025-07-23');
  const first = readMail(smtp, mailSeen);
  expect(first.map((mail) => mail.to).sort()).toEqual([OTHER, READER]);
  const edition = first.find((mail) => mail.to === READER)!;
  const unsubscribe = new RegExp(`${siteUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}unsubscribe\\?token=[A-Za-z0-9._-]+`).exec(edition.text)?.[0];
  expect(unsubscribe, edition.text).toBeDefined();
  expect(edition.headers['list-unsubscribe']?.[0]).toContain(`<${unsubscribe}>`);
  expect(edition.headers['list-unsubscribe-post']).toEqual(['List-Unsubscribe=One-Click']);

  // The link opens a page; only its button unsubscribes.
  await page.goto(unsubscribe!);
  expect(await page.locator('h1').textContent()).toBe('Unsubscribe');
  expect(await statusOf(READER)).toBe('active');
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Unsubscribe' }).click()]);
  await page.locator('h1', { hasText: 'You are unsubscribed' }).waitFor();
  expect(await statusOf(READER)).toBe('unsubscribed');

  // The edition after that goes to the other subscriber only.
  mailSeen = smtp.messages.length;
  await cli('send', '--date', '2025-07-24');
  expect(readMail(smtp, mailSeen).map((mail) => mail.to)).toEqual([OTHER]);

  // Nothing on any page broke the Content-Security-Policy or threw.
  expect(problems).toEqual([]);
  await page.close();
});
