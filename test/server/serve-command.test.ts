import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createPublication, REPOSITORY, TEST_SECRET, type TestPublication } from './support.js';

const CLI = path.join(REPOSITORY, 'dist/cli/main.js');
const SECRET = 'OUTSIDE-OUTPUT-SECRET';

let publication: TestPublication | undefined;
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  publication?.cleanup();
});

interface Started {
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Runs `briefing serve --port 0` and waits for the line that names its URL. */
function startServe(configFile: string): Promise<Started> {
  const process_ = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--port', '0', '--host', '127.0.0.1'], {
    env: { PATH: process.env.PATH, BRIEFING_SECRET: TEST_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = process_;
  let stdout = '';
  let stderr = '';
  process_.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => process_.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    process_.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
      if (match) resolve({ url: match[1]!, stderr: () => stderr, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${stderr}`)));
  });
}

/** Sends a request line exactly as written (no client-side normalisation) and returns the status. */
function rawStatus(url: string, target: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.on('error', reject);
  });
}

describe('briefing serve', () => {
  it('serves output/ until SIGTERM, refuses raw traversal on the socket, logs each request, and exits 0', async () => {
    publication = createPublication();
    writeFileSync(path.join(publication.output, 'index.html'), '<!doctype html><title>Front page</title>\n');
    writeFileSync(path.join(publication.dir, 'secret.txt'), SECRET);
    const started = await startServe(publication.configFile);

    const health = await fetch(`${started.url}healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const front = await fetch(started.url);
    expect(front.status).toBe(200);
    expect(await front.text()).toContain('Front page');

    for (const target of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%252e%252e/secret.txt', '/..\\secret.txt', '/%00', '/a/../../secret.txt']) {
      const answer = await rawStatus(started.url, target);
      expect([400, 404], target).toContain(answer.status);
      expect(answer.text).not.toContain(SECRET);
    }

    child!.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    const lines = started
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.msg === 'request' && line.path === '/healthz')).toMatchObject({ method: 'GET', status: 200 });
    expect(lines.some((line) => line.msg === 'server: stopped')).toBe(true);
  });

  it('keeps answering feeds within a moment while another process holds the store lock, and answers writes 503 (no event loop frozen)', async () => {
    publication = createPublication();
    writeFileSync(path.join(publication.output, 'feed.xml'), '<?xml version="1.0"?><rss version="2.0"><channel/></rss>\n');
    const started = await startServe(publication.configFile);
    const holder = new Database(path.join(publication.dir, 'data', 'briefing.db'));
    try {
      holder.exec('BEGIN IMMEDIATE');
      const began = performance.now();
      const subscribing = fetch(`${started.url}subscribe`, {
        method: 'POST',
        body: new URLSearchParams({ address: 'someone@example.org' }),
        redirect: 'manual',
      }).then((response) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), ms: performance.now() - began }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const feedStarted = performance.now();
      const feed = await fetch(`${started.url}feed.xml`);
      expect(feed.status).toBe(200);
      expect(performance.now() - feedStarted).toBeLessThan(500);
      const health = await fetch(`${started.url}healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'busy' });
      const subscribed = await subscribing;
      expect(subscribed.status).toBe(503);
      expect(subscribed.retryAfter).toBe('2');
      expect(subscribed.ms).toBeLessThan(4_000);
    } finally {
      holder.close();
    }
    child!.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('refuses a port that is not a number, with a clear message and a non-zero exit', async () => {
    publication = createPublication();
    const run = spawn(process.execPath, [CLI, 'serve', '--config', publication.configFile, '--port', 'http'], {
      env: { PATH: process.env.PATH, BRIEFING_SECRET: TEST_SECRET },
    });
    let stderr = '';
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => run.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('cli: --port must be a number from 0 to 65535, not "http"');
  });
});
