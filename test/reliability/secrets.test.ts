import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, type CliResult, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { startFaultServer, type FaultServer } from './support/fault-smtp-server.js';
import { listFiles } from './support/output-check.js';
import { EDITION } from './support/publication.js';
import { startServe } from './support/serve.js';

/**
 * Runs commands that fail in every way a misconfigured or unlucky deployment fails (SMTP down,
 * unknown host, login refused, bad URL, database unreachable, bad keys, a server whose mail cannot
 * go) with known secrets in the environment, then looks for those secrets everywhere the program
 * writes: stdout, stderr (the logs), output/ and data/ (the SQLite store included), the mail sent.
 */

const SMTP_USER = 'briefing-sender';
const SMTP_PASSWORD = 'Sm7p-Pa55:w/rd@9f8e7d6c';
const DB_PASSWORD = 'Db-Pa55-7c6b5a4f3e2d';
const HMAC_SECRET = 'hmac-secret-5d41402abc4b2a76b9719d911017c592';
const DKIM = generateKeyPairSync('rsa', { modulusLength: 1024 });
const DKIM_PEM = DKIM.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Every form a secret could leak in: as is, percent-encoded, in an AUTH PLAIN/LOGIN exchange, a PEM body line. */
const NEEDLES: ReadonlyArray<[string, string]> = [
  ['SMTP password', SMTP_PASSWORD],
  ['SMTP password, percent-encoded', encodeURIComponent(SMTP_PASSWORD)],
  ['SMTP password, base64 (AUTH LOGIN)', Buffer.from(SMTP_PASSWORD).toString('base64')],
  ['SMTP login, base64 (AUTH PLAIN)', Buffer.from(`\0${SMTP_USER}\0${SMTP_PASSWORD}`).toString('base64')],
  ['database password', DB_PASSWORD],
  ['BRIEFING_SECRET', HMAC_SECRET],
  ['BRIEFING_SECRET, first half', HMAC_SECRET.slice(0, 22)],
  ...DKIM_PEM.split('\n')
    .filter((line) => line.length === 64)
    .slice(2, 5)
    .map((line, index): [string, string] => [`DKIM key line ${index + 3}`, line]),
];
const smtpUrl = (host: string, port: number, query = ''): string => `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@${host}:${port}${query}`;

let workspace: Workspace;
let refusingServer: SmtpTestServer;
let server: FaultServer;
let closedPort: number;
const results: Array<{ label: string; result: CliResult }> = [];

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Every byte the program wrote into the workspace: output/, data/ (the store), and stray files. */
function writtenFiles(): Array<[string, string]> {
  return listFiles(workspace.root)
    .filter((file) => !file.startsWith('content/') && file !== 'briefing.config.json')
    .map((file) => [file, readFileSync(path.join(workspace.root, file)).toString('latin1')]);
}

function leaks(text: string): string[] {
  return NEEDLES.filter(([, needle]) => text.includes(needle)).map(([name]) => name);
}

async function run(label: string, args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const result = await workspace.run(args, env);
  results.push({ label, result });
  return result;
}

beforeAll(async () => {
  workspace = await createWorkspace({ subscribers: 3 });
  refusingServer = await startSmtpTestServer({ auth: { user: SMTP_USER, pass: 'another-password' } });
  server = await startFaultServer({ seed: 3, temporaryRate: 0, resetRate: 0, stallRate: 0, unknownUsers: new Set(), oversized: new Set() }, { keepRaw: true });
  closedPort = await freePort();
});

afterAll(async () => {
  await refusingServer.close();
  await server.close();
  workspace.remove();
});

const BASE = { BRIEFING_SECRET: HMAC_SECRET, BRIEFING_DKIM_DOMAIN: 'briefing.example.org', BRIEFING_DKIM_SELECTOR: 'mail', BRIEFING_DKIM_KEY: DKIM_PEM };

describe('secrets stay out of logs, errors and output', () => {
  it.each([
    ['the SMTP server is down', () => ({ BRIEFING_SMTP_URL: smtpUrl('127.0.0.1', closedPort) }), /cannot be reached/],
    ['the SMTP host does not exist', () => ({ BRIEFING_SMTP_URL: smtpUrl('no-such-host.invalid', 2525) }), /cannot (connect|be reached)/],
    ['the SMTP login is refused', () => ({ BRIEFING_SMTP_URL: smtpUrl('127.0.0.1', refusingServer.port) }), /535/],
    ['the SMTP URL has an unknown option', () => ({ BRIEFING_SMTP_URL: smtpUrl('127.0.0.1', closedPort, '?secure=maybe&bogus=1') }), /^config: BRIEFING_SMTP_URL /m],
    ['the SMTP URL is not a URL', () => ({ BRIEFING_SMTP_URL: `smtp://${SMTP_USER}:${SMTP_PASSWORD} @127.0.0.1:${closedPort}` }), /^config: BRIEFING_SMTP_URL is not a URL/m],
    ['PostgreSQL is unreachable', () => ({ BRIEFING_DATABASE_URL: `postgres://postgres:${DB_PASSWORD}@127.0.0.1:${closedPort}/test` }), /^store: /m],
    ['the PostgreSQL database does not exist', () => ({ BRIEFING_DATABASE_URL: `postgres://postgres:${DB_PASSWORD}@127.0.0.1:5432/no_such_database_for_briefing` }), /^store: /m],
    ['the database URL has an unknown scheme', () => ({ BRIEFING_DATABASE_URL: `mysql://root:${DB_PASSWORD}@127.0.0.1/briefing` }), /^config: BRIEFING_DATABASE_URL/m],
    ['the DKIM key is not a key', () => ({ BRIEFING_SMTP_URL: server.url, BRIEFING_DKIM_KEY: DKIM_PEM.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!') }), /DKIM/],
    ['BRIEFING_SECRET is too short', () => ({ BRIEFING_SECRET: HMAC_SECRET.slice(0, 12) }), /^config: BRIEFING_SECRET must be at least 16 characters long$/m],
  ])('send: %s — a clear error, and no secret in it', async (label, env, message) => {
    const result = await run(label, ['send', '--date', EDITION, '--json'], { ...BASE, ...env() });
    expect(result.code, result.stderr).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/unexpected error/);
    expect(leaks(result.stdout + result.stderr), result.stderr).toEqual([]);
  });

  it.each([
    ['subscribers list', ['subscribers', 'list']],
    ['status', ['status', '--date', EDITION]],
    ['run', ['run']],
  ])('%s with an unreachable PostgreSQL names the server, not the password', async (label, args) => {
    const result = await run(label, args, { ...BASE, BRIEFING_DATABASE_URL: `postgres://postgres:${DB_PASSWORD}@127.0.0.1:${closedPort}/test`, BRIEFING_SMTP_URL: smtpUrl('127.0.0.1', closedPort) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${closedPort}`));
    expect(leaks(result.stdout + result.stderr), result.stderr).toEqual([]);
  });

  it('a send that works signs with the DKIM key and logs the transport without the password', async () => {
    const sent = await run('send that works', ['send', '--date', EDITION, '--json'], { ...BASE, BRIEFING_SMTP_URL: server.url.replace('smtp://', `smtp://${SMTP_USER}:${encodeURIComponent(SMTP_PASSWORD)}@`).concat('?authMethod=PLAIN') });
    // The fault server offers no AUTH: the client refuses to send the password to it rather than leak it.
    expect(sent.code).not.toBe(0);
    expect(leaks(sent.stdout + sent.stderr)).toEqual([]);
    const plain = await run('send without login', ['send', '--date', EDITION, '--json'], { ...BASE, BRIEFING_SMTP_URL: server.url });
    expect(plain.code, plain.stderr).toBe(0);
    expect(server.raws.length).toBeGreaterThan(0);
    for (const raw of server.raws) {
      expect(raw.toString('latin1')).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256;/);
      expect(leaks(raw.toString('latin1'))).toEqual([]);
    }
    const preview = await run('preview', ['preview', '--date', EDITION], BASE);
    expect(preview.code, preview.stderr).toBe(0);
  });

  it('briefing serve, whose confirmation mail cannot be sent, logs the failure without a secret', async () => {
    const served = await startServe(workspace.configFile, { ...BASE, BRIEFING_SMTP_URL: smtpUrl('127.0.0.1', refusingServer.port) });
    const url = served.url;
    try {
      const response = await fetch(`${url}subscribe`, { method: 'POST', body: new URLSearchParams({ address: 'new.reader@example.org', name: 'New' }) });
      expect(response.status).toBe(200);
      const body = await response.text();
      for (let wait = 0; wait < 200 && !/535/.test(served.stderr()); wait += 1) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(served.stderr()).toMatch(/535/);
      await fetch(`${url}confirm?token=1.${'A'.repeat(43)}`);
      await fetch(`${url}unsubscribe?token=${encodeURIComponent(HMAC_SECRET)}`);
      expect(leaks(body)).toEqual([]);
    } finally {
      await served.stop();
    }
    const [stdout, stderr] = [served.stdout(), served.stderr()];
    results.push({ label: 'serve', result: { code: 0, signal: null, stdout, stderr } });
    // Not even the secret sent back as a (forged) token in a query string shows up in the access log.
    expect(leaks(stdout + stderr), stderr).toEqual([]);
    expect(stderr).not.toContain(encodeURIComponent(HMAC_SECRET));
  });

  it('no file the commands wrote (output/, data/ with the SQLite store, outbox) holds a secret', () => {
    const files = writtenFiles();
    expect(files.map(([file]) => file)).toEqual(expect.arrayContaining(['data/briefing.db']));
    for (const [file, text] of files) expect(leaks(text), file).toEqual([]);
    // And the runs above all produced something to look at.
    expect(results.length).toBeGreaterThan(12);
  });
});
