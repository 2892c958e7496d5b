/**
 * The preference page and the subscribe form's topic boxes over real HTTP: the app on a loopback
 * socket (`listen`), a real SQLite store, Node's fetch as the client. Each test speaks as its own
 * client through a trusted proxy header, so the per-client limit shows only where it is tested.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createToken } from '../../src/delivery/tokens.js';
import { listen, type RunningServer } from '../../src/server/listen.js';
import type { Subscriber, SubscriberStatus } from '../../src/store/store.js';
import { accessRecords, createPublication, openTestServer, TEST_SECRET, type TestPublication, type TestServer } from './support.js';

let publication: TestPublication;
let server: TestServer;
let running: RunningServer;
let client = 0;
let forwardedFor = '';
let address = 0;

beforeAll(async () => {
  publication = createPublication({ trustedProxies: '127.0.0.1, ::1' });
  server = await openTestServer(publication);
  running = await listen(server.app, { port: 0, host: '127.0.0.1', trustedProxies: ['127.0.0.1'] });
});

afterAll(async () => {
  await running.close();
  await server.close();
  publication.cleanup();
});

beforeEach(() => {
  client += 1;
  forwardedFor = `198.51.100.${client}`;
});

type Form = Array<[string, string]>;

function request(path: string, init: { method?: 'GET' | 'POST'; form?: Form | string; headers?: Record<string, string> } = {}): Promise<Response> {
  const body = init.form === undefined ? undefined : typeof init.form === 'string' ? init.form : new URLSearchParams(init.form).toString();
  return fetch(new URL(path.slice(1), running.url), {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    redirect: 'manual',
    headers: {
      'x-forwarded-for': forwardedFor,
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      ...init.headers,
    },
    ...(body === undefined ? {} : { body }),
  });
}

/** A new subscriber of the given status and their preference token. */
async function subscriber(status: SubscriberStatus = 'active', topics: readonly string[] | null = null): Promise<{ subscriber: Subscriber; token: string }> {
  address += 1;
  const mail = `reader${address}@example.org`;
  await server.store.addSubscribers([{ address: mail, status, source: 'cli', topics }], server.clock.now());
  const found = (await server.store.findSubscriber(mail))!;
  return { subscriber: found, token: createToken(TEST_SECRET, 'preferences', found) };
}

const current = async (id: number): Promise<Subscriber> => (await server.store.getSubscriber(id))!;
const page = (token: string): string => `/preferences?token=${encodeURIComponent(token)}`;
const save = (token: string, topics: readonly string[], paused = false): Form => [
  ['token', token],
  ...topics.map((id): [string, string] => ['topics', id]),
  ...(paused ? [['paused', 'yes'] as [string, string]] : []),
  ['action', 'save'],
];
/** The topic boxes a page shows, and whether each is ticked. */
function boxes(html: string): Record<string, boolean> {
  return Object.fromEntries([...html.matchAll(/<input type="checkbox" name="topics" value="([^"]+)"( checked)?>/g)].map((m) => [m[1], m[2] !== undefined]));
}

describe('GET /preferences', () => {
  it('shows one form with every configured topic ticked for a reader of every topic, the pause box, Save, and a separate unsubscribe button', async () => {
    const { token } = await subscriber();
    const response = await request(page(token));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toContain("form-action 'self'");
    const html = await response.text();
    expect(boxes(html)).toEqual({ talks: true, protests: true, war: true });
    expect(html).toContain('<input type="checkbox" name="paused" value="yes">');
    // The token travels in a hidden field, not in the action the form posts to.
    expect(html.match(/<form [^>]*>/g)).toEqual([
      '<form class="preferences" method="post" action="/preferences">',
      '<form class="preferences-leave" method="post" action="/preferences">',
    ]);
    expect(html).toContain(`<input type="hidden" name="token" value="${token}">`);
    expect(html).toContain('<button type="submit" name="action" value="save">Save</button>');
    expect(html).toContain('<button type="submit" name="action" value="unsubscribe">Unsubscribe from everything</button>');
    expect(html).not.toContain('<script');
  });

  it('ticks the topics a reader chose and the pause box of a paused reader', async () => {
    const { subscriber: reader, token } = await subscriber('active', ['protests']);
    await server.store.setSubscriberPreferences(reader.id, { topics: ['protests'], paused: true }, server.clock.now());
    const html = await (await request(page(token))).text();
    expect(boxes(html)).toEqual({ talks: false, protests: true, war: false });
    expect(html).toContain('<input type="checkbox" name="paused" value="yes" checked>');
  });

  it.each([
    ['unsubscribed', /no longer sent to this address, so/],
    ['bounced', /no longer sent to this address: mail to it was returned/],
  ] as const)('shows an address that is %s that it left, and no form', async (status, says) => {
    const { token } = await subscriber(status);
    const response = await request(page(token));
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(says);
    expect(html).not.toContain('<form');
  });

  it('keeps the token out of the access log, on GET and POST', async () => {
    const { token } = await subscriber();
    const seen = server.records.length;
    await request(page(token));
    await request('/preferences', { form: save(token, ['talks']) });
    const lines = accessRecords(server.records.slice(seen));
    expect(lines.map((line) => [line.method, line.path])).toEqual([
      ['GET', '/preferences'],
      ['POST', '/preferences'],
    ]);
    expect(JSON.stringify(server.records.slice(seen))).not.toContain(token.split('.').at(-1));
  });
});

describe('POST /preferences', () => {
  it('saves the ticked topics and the pause, then answers 303 back to the page, which says so', async () => {
    const { subscriber: reader, token } = await subscriber();
    const response = await request('/preferences', { form: save(token, ['war', 'talks'], true) });
    expect(response.status).toBe(303);
    const location = response.headers.get('location')!;
    expect(location).toBe(`/preferences?token=${encodeURIComponent(token)}&saved=1`);
    expect(await current(reader.id)).toMatchObject({ topics: ['talks', 'war'], status: 'active', pausedAt: server.clock.now() });

    const shown = await (await request(location)).text();
    expect(shown).toContain('Your choices are saved.');
    expect(boxes(shown)).toEqual({ talks: true, protests: false, war: true });
    expect(shown).toContain('name="paused" value="yes" checked');
  });

  it('stores every topic ticked as every topic (null, so topics added later reach the reader) and un-pauses', async () => {
    const { subscriber: reader, token } = await subscriber('active', ['war']);
    await server.store.setSubscriberPreferences(reader.id, { topics: ['war'], paused: true }, server.clock.now());
    expect((await request('/preferences', { form: save(token, ['talks', 'protests', 'war']) })).status).toBe(303);
    expect(await current(reader.id)).toMatchObject({ topics: null, pausedAt: null });
  });

  it('lets a pending reader choose too', async () => {
    const { subscriber: reader, token } = await subscriber('pending');
    expect((await request('/preferences', { form: save(token, ['protests']) })).status).toBe(303);
    expect(await current(reader.id)).toMatchObject({ topics: ['protests'], status: 'pending' });
  });

  it('answers no topic ticked with a 400 page that says to choose one or unsubscribe, and changes nothing', async () => {
    const { subscriber: reader, token } = await subscriber('active', ['war']);
    const response = await request('/preferences', { form: save(token, [], true) });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('Choose at least one topic, or unsubscribe from everything below.');
    // The form again, as sent, so the reader can fix it.
    expect(boxes(html)).toEqual({ talks: false, protests: false, war: false });
    expect(html).toContain('name="paused" value="yes" checked');
    expect(await current(reader.id)).toMatchObject({ topics: ['war'], pausedAt: null });
  });

  it('unsubscribes from everything with the other button, with the reason "preference page"', async () => {
    const { subscriber: reader, token } = await subscriber();
    const response = await request('/preferences', { form: [['token', token], ['action', 'unsubscribe']] });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('You are unsubscribed');
    expect(await current(reader.id)).toMatchObject({ status: 'unsubscribed', statusReason: 'preference page', unsubscribedAt: server.clock.now() });
    // The page now says the address left; a stale form changes nothing.
    expect(await (await request(page(token))).text()).toContain('No longer subscribed');
    const stale = await request('/preferences', { form: save(token, ['talks']) });
    expect(stale.status).toBe(200);
    expect(await stale.text()).not.toContain('<form');
    expect(await current(reader.id)).toMatchObject({ status: 'unsubscribed', topics: null });
  });

  it('answers a form with no action, or another one, with 400', async () => {
    const { subscriber: reader, token } = await subscriber();
    for (const form of [[['token', token], ['topics', 'talks']], [['token', token], ['topics', 'talks'], ['action', 'delete']]] as Form[]) {
      expect((await request('/preferences', { form })).status).toBe(400);
    }
    expect((await current(reader.id)).topics).toBeNull();
  });

  it('leaves a bounced address bounced: its form neither saves nor unsubscribes', async () => {
    const { subscriber: reader, token } = await subscriber('bounced');
    for (const form of [save(token, ['talks']), [['token', token], ['action', 'unsubscribe']]] as Form[]) {
      const response = await request('/preferences', { form });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('mail to it was returned');
    }
    expect(await current(reader.id)).toMatchObject({ status: 'bounced', statusReason: null, topics: null });
  });
});

describe('attacks on the preference page', () => {
  it('refuses a forged token (altered signature, altered id, garbage, none) on GET and POST and changes nothing', async () => {
    const { subscriber: reader, token } = await subscriber();
    const [id, mac] = token.split('.') as [string, string];
    const flipped = `${id}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
    const otherId = `${Number(id) + 1000}.${mac}`;
    for (const [index, forged] of [flipped, otherId, 'x', `${id}.${'A'.repeat(43)}`, '<script>alert(1)</script>'].entries()) {
      // Refused tokens count per client: each forgery from its own, so the limit stays out of this test.
      forwardedFor = `192.0.2.${index + 1}`;
      const shown = await request(page(forged));
      expect(shown.status).toBe(400);
      expect(await shown.text()).toContain('This link to your preferences is not valid');
      expect((await request('/preferences', { form: [['token', forged], ['action', 'unsubscribe']] })).status).toBe(400);
    }
    expect((await request('/preferences')).status).toBe(400);
    expect((await request('/preferences', { form: [['action', 'unsubscribe']] })).status).toBe(400);
    expect(await current(reader.id)).toMatchObject({ status: 'active', topics: null });
  });

  it('refuses a token of another purpose (the unsubscribe and confirm links of the same reader)', async () => {
    const { subscriber: reader } = await subscriber();
    for (const purpose of ['unsubscribe', 'confirm'] as const) {
      const other = createToken(TEST_SECRET, purpose, reader, purpose === 'confirm' ? new Date(server.clock.now().getTime() + 3_600_000) : undefined);
      expect((await request(page(other))).status).toBe(400);
      expect((await request('/preferences', { form: [['token', other], ['action', 'unsubscribe']] })).status).toBe(400);
      expect((await request('/preferences', { form: save(other, ['war']) })).status).toBe(400);
    }
    expect(await current(reader.id)).toMatchObject({ status: 'active', topics: null });
  });

  it('refuses a token made for another subscriber: one reader\'s link key cannot sign for another id', async () => {
    const { subscriber: victim } = await subscriber();
    const { subscriber: attacker } = await subscriber();
    const crafted = createToken(TEST_SECRET, 'preferences', { id: victim.id, linkKey: attacker.linkKey });
    expect((await request(page(crafted))).status).toBe(400);
    expect((await request('/preferences', { form: [['token', crafted], ['action', 'unsubscribe']] })).status).toBe(400);
    expect((await current(victim.id)).status).toBe('active');
  });

  it.each([
    ['a cross-site fetch metadata header', { 'sec-fetch-site': 'cross-site' }],
    ['a same-site (other subdomain) fetch metadata header', { 'sec-fetch-site': 'same-site' }],
    ['an Origin of another site', { origin: 'https://evil.example' }],
    ['an opaque Origin (sandboxed frame, data: page)', { origin: 'null' }],
    ['an Origin naming the site over another scheme', { origin: 'http://briefing.example.org' }],
  ])('refuses a cross-origin POST (CSRF) with %s: 403, nothing changes', async (_name, headers) => {
    const { subscriber: reader, token } = await subscriber();
    for (const form of [save(token, ['war'], true), [['token', token], ['action', 'unsubscribe']]] as Form[]) {
      const response = await request('/preferences', { form, headers });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('This form can only be sent from a page of this site.');
    }
    expect(await current(reader.id)).toMatchObject({ status: 'active', topics: null, pausedAt: null });
  });

  it.each([
    ['the fetch metadata of a same-origin form', { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }],
    ['the configured site as Origin', { origin: 'https://briefing.example.org' }],
    ['the host it was sent to as Origin', {}],
  ])('takes a POST with %s', async (name, headers) => {
    const { subscriber: reader, token } = await subscriber();
    const sameHost = name.startsWith('the host') ? { origin: new URL(running.url).origin } : {};
    expect((await request('/preferences', { form: save(token, ['war']), headers: { ...headers, ...sameHost } })).status).toBe(303);
    expect((await current(reader.id)).topics).toEqual(['war']);
  });

  it('answers 413 to a form over the body limit, announced or streamed, before reading the token in it', async () => {
    const { subscriber: reader, token } = await subscriber();
    const big = `${new URLSearchParams(save(token, ['war'])).toString()}&name=${'x'.repeat(9000)}`;
    const announced = await request('/preferences', { form: big });
    expect(announced.status).toBe(413);
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`${new URLSearchParams(save(token, ['war'])).toString()}&pad=`));
        for (let index = 0; index < 10; index += 1) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const streamed = await fetch(new URL('preferences', running.url), {
      method: 'POST',
      body: chunks,
      duplex: 'half',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await current(reader.id)).topics).toBeNull();
  });

  it('handles 200 topic fields: repeats of one topic choose it once, 200 unknown ones are refused', async () => {
    const { subscriber: reader, token } = await subscriber();
    const repeated: Form = [['token', token], ...Array.from({ length: 200 }, (): [string, string] => ['topics', 'talks']), ['action', 'save']];
    expect((await request('/preferences', { form: repeated })).status).toBe(303);
    expect((await current(reader.id)).topics).toEqual(['talks']);
    const invented: Form = [['token', token], ['topics', 'war'], ...Array.from({ length: 200 }, (_, i): [string, string] => ['topics', `topic-${i}`]), ['action', 'save']];
    const refused = await request('/preferences', { form: invented });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('The form named a topic this briefing does not have.');
    expect((await current(reader.id)).topics).toEqual(['talks']);
  });

  it('refuses a topic id carrying markup with a 400 page that does not echo it, and stores nothing', async () => {
    const { subscriber: reader, token } = await subscriber();
    const response = await request('/preferences', { form: save(token, ['talks', '"><script>alert(1)</script>']) });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).not.toContain('<script');
    expect(html).not.toContain('alert(1)');
    // The boxes show the stored choice again.
    expect(boxes(html)).toEqual({ talks: true, protests: true, war: true });
    expect((await current(reader.id)).topics).toBeNull();
  });

  it('treats a body that is no form as a link without a token', async () => {
    const { subscriber: reader, token } = await subscriber();
    const json = await request('/preferences', { form: JSON.stringify({ token, action: 'unsubscribe' }), headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(400);
    expect(await json.text()).toContain('This link to your preferences is not valid');
    const broken = await request('/preferences', { form: '--x\r\nnot multipart', headers: { 'content-type': 'multipart/form-data; boundary=x' } });
    expect(broken.status).toBe(400);
    expect((await current(reader.id)).status).toBe('active');
  });

  it('limits requests per link, whatever the client, and refused tokens per client', async () => {
    const { token } = await subscriber();
    const { token: another } = await subscriber();
    // The default burst is 10 per link: spread over ten clients, the eleventh request is refused.
    for (let index = 0; index < 10; index += 1) {
      forwardedFor = `203.0.113.${index + 1}`;
      expect((await request(page(token))).status).toBe(200);
    }
    forwardedFor = '203.0.113.99';
    const limited = await request('/preferences', { form: save(token, ['war']) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another reader's link from the same client still works.
    expect((await request(page(another))).status).toBe(200);
    // Bad tokens count against their client.
    forwardedFor = '203.0.113.150';
    for (let index = 0; index < 10; index += 1) expect((await request(page(`${index + 1}.${'A'.repeat(43)}`))).status).toBe(400);
    expect((await request(page('1.x'))).status).toBe(429);
  });
});

describe('the unsubscribe page', () => {
  it('offers a link to the preference page, signed for preferences, beside its button', async () => {
    const { subscriber: reader } = await subscriber();
    const html = await (await request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`)).text();
    const link = /<a href="(\/preferences\?token=[^"]+)">Choose your topics or pause the briefing<\/a>/.exec(html)?.[1];
    expect(link, html).toBeDefined();
    expect(link).toBe(page(createToken(TEST_SECRET, 'preferences', reader)));
    const preferences = await request(link!);
    expect(preferences.status).toBe(200);
    expect(await preferences.text()).toContain('Unsubscribe from everything');
    expect((await current(reader.id)).status).toBe('active');
  });

  it('offers no preference link to a bounced address', async () => {
    const { subscriber: reader } = await subscriber('bounced');
    const html = await (await request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`)).text();
    expect(html).toContain('Unsubscribe');
    expect(html).not.toContain('/preferences');
  });

  it('keeps the RFC 8058 one-click POST as it was: unsubscribe from all, from a mail provider with no same-origin headers to show', async () => {
    const { subscriber: reader } = await subscriber('active', ['war']);
    const response = await request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', reader)}`, {
      form: 'List-Unsubscribe=One-Click',
      headers: { origin: 'https://mail.provider.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(response.status).toBe(200);
    expect(await current(reader.id)).toMatchObject({ status: 'unsubscribed', statusReason: 'unsubscribe link' });
  });
});

describe('the subscribe form with topic boxes', () => {
  const subscribe = (form: Form): Promise<Response> => request('/subscribe', { form });
  const stored = async (mail: string): Promise<Subscriber | undefined> => {
    await server.deps.tasks.idle();
    return server.store.findSubscriber(mail);
  };

  it.each([
    ['some boxes', ['war', 'protests'], ['protests', 'war']],
    ['every box', ['talks', 'protests', 'war'], null],
    ['no box', [], null],
  ] as const)('stores a new pending address with %s ticked as its topics', async (name, ticked, topics) => {
    const mail = `new-${name.replace(' ', '-')}@example.org`;
    const response = await subscribe([['address', mail], ...ticked.map((id): [string, string] => ['topics', id])]);
    expect(response.status).toBe(303);
    expect(await stored(mail)).toMatchObject({ status: 'pending', topics });
  });

  it('answers the same redirect for an active address and leaves its topics alone (no one changes a reader\'s topics by signing them up)', async () => {
    const { subscriber: reader } = await subscriber('active', ['talks']);
    const fresh = await subscribe([['address', 'someone-new@example.org'], ['topics', 'war']]);
    const known = await subscribe([['address', reader.address], ['topics', 'war']]);
    expect([known.status, known.headers.get('location'), await known.text()]).toEqual([fresh.status, fresh.headers.get('location'), await fresh.text()]);
    expect(await stored(reader.address)).toMatchObject({ status: 'active', topics: ['talks'] });
  });

  it('refuses an unknown or hostile topic id with a 400 page that does not echo it, before storing anything', async () => {
    const mail = 'hostile-topic@example.org';
    const response = await subscribe([['address', mail], ['topics', 'talks'], ['topics', '"><script>alert(1)</script>']]);
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('The form named a topic this briefing does not have');
    // Headed by what is wrong: the address was fine.
    expect(html).toMatch(/<h1>Choose the topics again<\/h1>/);
    expect(html).not.toContain('does not look right');
    expect(html).not.toContain('<script');
    expect(boxes(html)).toEqual({ talks: true, protests: true, war: true });
    expect(await stored(mail)).toBeUndefined();
  });

  it('shows the boxes as ticked when the address is refused, so the reader fixes only the address', async () => {
    const response = await subscribe([['address', 'not an address'], ['topics', 'talks']]);
    expect(response.status).toBe(400);
    expect(await response.clone().text()).toMatch(/<h1>That address does not look right<\/h1>/);
    expect(boxes(await response.text())).toEqual({ talks: true, protests: false, war: false });
  });
});
