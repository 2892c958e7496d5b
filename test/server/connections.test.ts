import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../src/server/connection-guard.js';
import { listen, type RunningServer } from '../../src/server/listen.js';
import { errorResponse } from '../../src/server/respond.js';
import { createPublication, openTestServer, type TestPublication, type TestServer } from './support.js';

let publication: TestPublication;
let server: TestServer;
let running: RunningServer;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await running.close(1_000);
  await server.close();
  publication.cleanup();
});

async function start(connections: Partial<ConnectionLimits>, badRequest?: () => Response): Promise<URL> {
  publication = createPublication();
  writeFileSync(path.join(publication.output, 'feed.xml'), '<?xml version="1.0"?><rss version="2.0"><channel/></rss>\n');
  server = await openTestServer(publication);
  running = await listen(server.app, { port: 0, host: '127.0.0.1', connections, badRequest: badRequest ?? (() => errorResponse(server.deps.pages, 400)) });
  return new URL(running.url);
}

/** Opens a socket that never sends a byte; resolves once connected, with a promise of its close. */
function idleSocket(url: URL): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    sockets.push(socket);
    socket.on('error', () => undefined);
    // Read whatever comes (Node may answer 408 before closing): a paused socket with unread bytes never sees the close.
    socket.resume();
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now())));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

const isClosed = (socket: Socket): boolean => socket.destroyed || socket.readableEnded;

/** One GET on a connection of its own; the status and how long it took. */
async function timedGet(url: URL): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(new URL('feed.xml', url), { headers: { connection: 'close' }, signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('idle connections (slowloris without a byte)', () => {
  it('keeps one client to its connection cap and still answers its real request at once', async () => {
    const url = await start({ perClient: 4, headMs: 3_000 });
    const idle = [];
    for (let index = 0; index < 20; index += 1) idle.push(await idleSocket(url));
    await settle(100);
    expect(idle.filter(({ socket }) => !isClosed(socket)).length).toBeLessThanOrEqual(4);

    const answer = await timedGet(url);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(1_000);
  });

  it('closes sockets that send no request head within the head timeout', async () => {
    const url = await start({ headMs: 300 });
    const opened = performance.now();
    const idle = await Promise.all(Array.from({ length: 10 }, () => idleSocket(url)));
    const closedAt = await Promise.race([Promise.all(idle.map(({ closed }) => closed)), settle(10_000).then(() => [] as number[])]);
    expect(closedAt).toHaveLength(10);
    // Generous bounds for a loaded machine: without the guard these sockets are never closed at all.
    for (const at of closedAt) expect(at - opened).toBeLessThan(5_000);

    // A half-sent head is cut off as well, and a real request still gets through.
    const slow = await idleSocket(url);
    slow.socket.write('GET /feed.xml HTTP/1.1\r\nHost: x\r\n');
    await Promise.race([slow.closed, settle(10_000)]);
    expect(isClosed(slow.socket)).toBe(true);
    expect((await timedGet(url)).status).toBe(200);
  });

  it('keeps the total under its cap by closing the oldest idle connection for a new one', async () => {
    const url = await start({ total: 6, perClient: 100, headMs: 3_000 });
    const idle = [];
    for (let index = 0; index < 15; index += 1) idle.push(await idleSocket(url));
    await settle(100);
    expect(idle.filter(({ socket }) => !isClosed(socket)).length).toBeLessThanOrEqual(6);
    // The newest stayed; the oldest went.
    expect(isClosed(idle[0]!.socket)).toBe(true);
    expect(isClosed(idle[14]!.socket)).toBe(false);

    const answer = await timedGet(url);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(1_000);
  });
});

describe('bodies trickled to hold every connection', () => {
  it('closes, when the server is full, the connection whose request has taken longest, past a head\'s time, for a new one', async () => {
    const url = await start({ total: 4, perClient: 100, headMs: 400, requestMs: 10_000 });
    const slow = [];
    for (let index = 0; index < 4; index += 1) {
      const held = await idleSocket(url);
      held.socket.write('POST /unsubscribe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8000\r\n\r\ntoken=');
      slow.push(held);
      await settle(20);
    }
    await settle(600);
    const answer = await timedGet(url);
    expect(answer.status).toBe(200);
    // The first of them went; the others still trickle (each is still within its request time).
    expect(isClosed(slow[0]!.socket)).toBe(true);
    expect(isClosed(slow[3]!.socket)).toBe(false);
  });
});

/** Sends `head` as is on a connection of its own and reads the whole answer (the server closes it). */
function rawRequest(url: URL, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(head));
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

describe('requests the app never sees', () => {
  it.each([
    ['HTTP/1.0 without Host', 'GET /feed.xml HTTP/1.0\r\n\r\n'],
    ['HTTP/1.1 without Host', 'GET /feed.xml HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['a Host that makes no URL', 'GET /feed.xml HTTP/1.1\r\nHost: a b/c\r\nConnection: close\r\n\r\n'],
  ])('answers %s with the site\'s 400 page and its security headers, not a bare 400', async (_what, head) => {
    const url = await start({});
    const answer = await rawRequest(url, head);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toMatch(/\r\ncontent-security-policy: default-src 'none';/i);
    expect(answer).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
    expect(answer).toContain('Bad request');
    // The feed itself still answers a request with a Host.
    expect((await rawRequest(url, 'GET /feed.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  it('answers a bare 400 with the security headers, and keeps serving, when the 400 page cannot be rendered (an edited template)', async () => {
    const url = await start({}, () => {
      throw new Error('the error template names a partial that does not exist');
    });
    const answer = await rawRequest(url, 'GET /feed.xml HTTP/1.0\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
    expect((await rawRequest(url, 'GET /feed.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });
});
