import { afterEach, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config.js';
import { createToken } from '../../src/delivery/tokens.js';
import { accessRecords, createPublication, fromClient, openTestServer, TEST_SECRET, type TestPublication, type TestServer } from './support.js';

let publication: TestPublication;
let server: TestServer;

async function open(limits: Parameters<typeof openTestServer>[1] = {}): Promise<TestServer> {
  publication = createPublication();
  server = await openTestServer(publication, limits);
  return server;
}

afterEach(async () => {
  await server.close();
  publication.cleanup();
});

const subscribe = (app: TestServer['app'], client: string, address = 'someone@example.org'): Promise<Response> =>
  Promise.resolve(
    app.request(
      '/subscribe',
      { method: 'POST', body: new URLSearchParams({ address }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      fromClient(client),
    ),
  );

describe('rate limits per client', () => {
  it('answers 429 with Retry-After once a client spends its burst, per client, on every list route', async () => {
    const { app, clock } = await open({ limits: { perClient: { burst: 3, perSecond: 1 / 10 } } });
    for (let index = 0; index < 3; index += 1) expect((await subscribe(app, '192.0.2.1')).status).toBe(303);
    const limited = await subscribe(app, '192.0.2.1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('10');
    expect(await limited.text()).toContain('Too many requests');
    for (const url of ['/confirm?token=x', '/unsubscribe?token=x']) {
      expect((await app.request(url, {}, fromClient('192.0.2.1'))).status).toBe(429);
      expect((await app.request(url, { method: 'POST' }, fromClient('192.0.2.1'))).status).toBe(429);
    }

    // Another client is not affected; the feeds are never limited.
    expect((await subscribe(app, '192.0.2.2')).status).toBe(303);
    expect((await app.request('/healthz', {}, fromClient('192.0.2.1'))).status).toBe(200);

    // A token comes back every ten seconds.
    clock.advance(9_000);
    expect((await subscribe(app, '192.0.2.1')).status).toBe(429);
    clock.advance(1_000);
    expect((await subscribe(app, '192.0.2.1')).status).toBe(303);
    expect((await subscribe(app, '192.0.2.1')).status).toBe(429);
  });
});

describe('a token the server must read from the body', () => {
  it('is paid for by the client first (as a sign-up form is), so a client over its limit gets 429 without its body being waited for', async () => {
    const { app } = await open({ limits: { perClient: { burst: 2, perSecond: 1 / 60 } } });
    /** A POST whose token would be in a body that never ends (a body trickled to hold the connection). */
    const trickled = (path: string, client: string): Promise<Response> => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('token='));
        },
      });
      return Promise.resolve(app.request(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, duplex: 'half' } as RequestInit, fromClient(client)));
    };
    for (let index = 0; index < 2; index += 1) {
      const form = await app.request('/unsubscribe', { method: 'POST', body: 'token=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, fromClient('192.0.2.9'));
      expect(form.status).toBe(400);
    }
    for (const path of ['/unsubscribe', '/confirm', '/preferences', '/subscribe']) {
      const answer = await Promise.race([trickled(path, '192.0.2.9'), new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 2_000))]);
      expect(answer === 'waiting' ? answer : answer.status).toBe(429);
    }
  });

  it('counts the addresses of one IPv6 /64 as one client', async () => {
    const { app } = await open({ limits: { perClient: { burst: 2, perSecond: 1 / 60 } } });
    const answers = [];
    for (const client of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3']) answers.push((await subscribe(app, client, `${client.length}@example.org`)).status);
    expect(answers).toEqual([303, 303, 429]);
    expect((await subscribe(app, '2001:db8:1:3::1')).status).toBe(303);
  });
});

describe('one-click unsubscribes of many readers from one mail provider address (RFC 8058)', () => {
  const oneClick = (app: TestServer['app'], token: string, client: string): Promise<Response> =>
    Promise.resolve(app.request(`/unsubscribe?token=${encodeURIComponent(token)}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' }, fromClient(client)));

  it('answers 30 valid, distinct tokens from one address with 200: a signed link is limited by its token, not its client', async () => {
    const { app, store, clock } = await open();
    const readers = Array.from({ length: 30 }, (_, index) => ({ address: `reader${index}@example.org`, status: 'active' as const, source: 'test' }));
    await store.addSubscribers(readers, clock.now());
    const subscribers = await Promise.all(readers.map(async (reader) => (await store.findSubscriber(reader.address))!));
    const ids = subscribers.map((subscriber) => subscriber.id);

    const statuses = [];
    for (const subscriber of subscribers) statuses.push((await oneClick(app, createToken(TEST_SECRET, 'unsubscribe', subscriber), '198.51.100.25')).status);
    expect(statuses).toEqual(ids.map(() => 200));
    expect(await store.countSubscribers('unsubscribed')).toBe(30);

    // One link replayed is still limited (its burst is ten uses)...
    const replayed = createToken(TEST_SECRET, 'unsubscribe', subscribers[0]!);
    const replays = [];
    for (let attempt = 0; attempt < 10; attempt += 1) replays.push((await oneClick(app, replayed, `198.51.100.${100 + attempt}`)).status);
    expect(replays.slice(0, 9)).toEqual(Array.from({ length: 9 }, () => 200));
    expect(replays[9]).toBe(429);
    // ...and tokens that do not verify count against their client, as before.
    for (let attempt = 0; attempt < 10; attempt += 1) expect((await oneClick(app, `${ids[1]}.forged${attempt}`, '198.51.100.26')).status).toBe(400);
    expect((await oneClick(app, `${ids[1]}.forged`, '198.51.100.26')).status).toBe(429);
    expect((await oneClick(app, createToken(TEST_SECRET, 'unsubscribe', subscribers[2]!), '198.51.100.26')).status).toBe(200);
  });
});

describe('clients behind a reverse proxy', () => {
  const through = (app: TestServer['app'], proxy: string, forwardedFor: string): Promise<Response> =>
    Promise.resolve(
      app.request(
        '/subscribe',
        { method: 'POST', body: new URLSearchParams({ address: 'someone@example.org' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor } },
        fromClient(proxy),
      ),
    );

  it('limits each forwarded client on its own when the proxy is trusted, and ignores the header otherwise', async () => {
    publication = createPublication({ trustedProxies: '10.0.0.5, ::1' });
    server = await openTestServer(publication, { limits: { perClient: { burst: 2, perSecond: 1 / 60 } } });
    const { app } = server;
    for (let index = 0; index < 2; index += 1) expect((await through(app, '::ffff:10.0.0.5', '198.51.100.7')).status).toBe(303);
    expect((await through(app, '::ffff:10.0.0.5', '198.51.100.7')).status).toBe(429);
    // Another reader behind the same proxy still gets in; a spoofed left-hand entry changes nothing.
    expect((await through(app, '10.0.0.5', '198.51.100.8')).status).toBe(303);
    expect((await through(app, '10.0.0.5', '203.0.113.1, 198.51.100.7')).status).toBe(429);
    // Two trusted proxies in a row: the client is the first address before them.
    expect((await through(app, '::1', '198.51.100.9, 10.0.0.5')).status).toBe(303);
    expect((await through(app, '::1', '198.51.100.9, 10.0.0.5')).status).toBe(303);
    expect((await through(app, '::1', '198.51.100.9, 10.0.0.5')).status).toBe(429);
    // An untrusted peer's header is not believed: it is limited as itself.
    for (let index = 0; index < 2; index += 1) expect((await through(app, '192.0.2.50', `198.51.100.${20 + index}`)).status).toBe(303);
    expect((await through(app, '192.0.2.50', '198.51.100.30')).status).toBe(429);
  });

  it('refuses a BRIEFING_TRUSTED_PROXIES entry that is not an IP address', () => {
    expect(() => readEnvironment({ BRIEFING_TRUSTED_PROXIES: '10.0.0.5, proxy.internal' })).toThrow(/BRIEFING_TRUSTED_PROXIES: "proxy\.internal" is not an IP address/);
  });
});

describe('body size limit', () => {
  it('answers 413 to a form larger than 8 KB, announced or streamed', async () => {
    const { app } = await open();
    const big = `address=a%40example.org&name=${'x'.repeat(9000)}`;
    const announced = await app.request('/subscribe', { method: 'POST', body: big, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, fromClient('192.0.2.3'));
    expect(announced.status).toBe(413);
    expect(await announced.text()).toContain('Request too large');

    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 10; index += 1) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const streamed = await app.request(
      '/unsubscribe?token=x',
      { method: 'POST', body: stream, headers: { 'content-type': 'application/x-www-form-urlencoded' }, duplex: 'half' } as RequestInit,
      fromClient('192.0.2.4'),
    );
    expect(streamed.status).toBe(413);
    expect(await server.store.countSubscribers()).toBe(0);
  });
});

describe('failures inside', () => {
  it('answers 500 with a generic page, no stack or message, and logs the error; /healthz says 503', async () => {
    const { app, store, records } = await open();
    await store.close();
    const response = await subscribe(app, '192.0.2.5', 'failing@example.org');
    expect(response.status).toBe(500);
    const html = await response.text();
    expect(html).toContain('Something went wrong');
    expect(html).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(html).not.toMatch(/Error|closed|sqlite|database/i);
    expect(records.some((record) => record.msg === 'server: request failed' && typeof (record.err as { stack?: string })?.stack === 'string')).toBe(true);
    expect(accessRecords(records).at(-1)).toMatchObject({ method: 'POST', path: '/subscribe', status: 500 });

    const health = await app.request('/healthz');
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'unavailable' });
  });
});
