import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readEnvironment } from '../../src/config.js';
import { buildSite } from '../../src/run/build-site.js';
import { createTransport } from '../../src/delivery/create-transport.js';
import { createToken } from '../../src/delivery/tokens.js';
import { createApp } from '../../src/server/app.js';
import type { ServerStore } from '../../src/server/dependencies.js';
import { buildDependencies } from '../../src/server/build-dependencies.js';
import type { Subscriber } from '../../src/store/store.js';
import {
  accessRecords,
  captureLogger,
  confirmationLink,
  createPublication,
  dkimOf,
  fromClient,
  openTestServer,
  readMail,
  TEST_SECRET,
  type ReceivedMail,
  type TestPublication,
  type TestServer,
} from './support.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { elementsOf, type ElementView } from '../output/html-view.js';

const HOUR = 3_600_000;
let publication: TestPublication;
let server: TestServer;
let client = 0;
/** Each test speaks from its own address, so the per-client limit only shows where it is tested. */
let from: ReturnType<typeof fromClient>;
let smtp: SmtpTestServer;
let read = 0;

beforeAll(async () => {
  smtp = await startSmtpTestServer({ keepRaw: true });
  publication = createPublication({ smtpUrl: smtp.url });
  server = await openTestServer(publication);
});

afterAll(async () => {
  await server.close();
  await smtp.close();
  publication.cleanup();
});

beforeEach(() => {
  client += 1;
  from = fromClient(`192.0.2.${client}`);
});

/** Messages the SMTP server accepted since the last call. */
async function newMail(): Promise<ReceivedMail[]> {
  await server.deps.tasks.idle();
  const mail = readMail(smtp, read);
  read = smtp.messages.length;
  return mail;
}

function post(url: string, body: string | Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
  return Promise.resolve(
    server.app.request(url, { method: 'POST', body: text, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, from),
  );
}

function get(url: string): Promise<Response> {
  return Promise.resolve(server.app.request(url, {}, from));
}

const pathOf = (link: string): string => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};

async function statusOf(address: string): Promise<string | undefined> {
  return (await server.store.findSubscriber(address))?.status;
}

describe('subscribe and confirm (double opt-in)', () => {
  it('stores a new address as pending, mails a signed link, and activates only on the POST', async () => {
    const response = await post('/subscribe', { address: 'Reader@Example.ORG', name: 'Ada Reader' });
    expect(response.status).toBe(303);
    const received = await get(response.headers.get('location')!);
    expect(received.status).toBe(200);
    expect(await received.text()).toContain('Check your inbox');
    await server.deps.tasks.idle();
    expect(await statusOf('Reader@example.org')).toBe('pending');

    const [mail, ...others] = await newMail();
    expect(others).toHaveLength(0);
    // The name waits for the confirmation: whoever filled in the form chose it, not the address's owner.
    expect(mail!.to).toBe('Reader@example.org');
    expect(mail!.text).not.toContain('Ada Reader');
    expect(mail!.subject).toBe('Confirm your subscription to Briefing');
    expect(mail!.headers['auto-submitted']).toEqual(['auto-generated']);
    expect(mail!.headers['from']).toEqual(['Briefing <briefing@briefing.example.org>']);
    const link = confirmationLink(mail!);
    expect(link.startsWith('https://briefing.example.org/confirm?token=')).toBe(true);

    // A link scanner that only GETs confirms nothing.
    const page = await get(pathOf(link));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<form method="post" action="\/confirm\?token=[^"]+">/);
    expect(html).not.toContain('<script');
    expect(await statusOf('Reader@example.org')).toBe('pending');

    const confirmed = await post(pathOf(link), '');
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('You are subscribed');
    const subscriber = await server.store.findSubscriber('Reader@example.org');
    expect(subscriber?.status).toBe('active');
    expect(subscriber?.name).toBe('Ada Reader');
    expect(subscriber?.source).toBe('web');

    // Confirming twice is harmless.
    expect((await post(pathOf(link), '')).status).toBe(200);
  });

  it('answers with the same redirect, byte for byte, whether the address is new, pending, active or unsubscribed', async () => {
    await server.store.addSubscribers(
      [
        { address: 'active@example.org', status: 'active', source: 'test' },
        { address: 'pending@example.org', status: 'pending', source: 'test' },
        { address: 'gone@example.org', status: 'unsubscribed', source: 'test' },
      ],
      server.clock.now(),
    );
    const bodies = new Set<string>();
    for (const address of ['brand-new@example.org', 'active@example.org', 'pending@example.org', 'gone@example.org']) {
      const response = await post('/subscribe', { address });
      expect(response.status).toBe(303);
      bodies.add(JSON.stringify([[...response.headers], await response.text()]));
    }
    expect(bodies.size).toBe(1);
    const mail = await newMail();
    // Everyone but the active subscriber is asked to confirm; the active one is left alone.
    expect(mail.map((message) => message.to).sort()).toEqual(['brand-new@example.org', 'gone@example.org', 'pending@example.org']);
    expect(await statusOf('active@example.org')).toBe('active');
  });

  it('answers before any work that depends on the address, so timing cannot tell a subscribed address from a new one', async () => {
    await server.store.addSubscribers([{ address: 'known@example.org', status: 'active', source: 'test' }], server.clock.now());
    // The real store, with every lookup and insert held until the test lets them go.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held: string[] = [];
    const gated: ServerStore = {
      ...server.deps.store,
      findSubscriber: async (address) => {
        held.push(`find ${address}`);
        await gate;
        return server.deps.store.findSubscriber(address);
      },
      addSubscribers: async (subscribers, now) => {
        held.push('add');
        await gate;
        return server.deps.store.addSubscribers(subscribers, now);
      },
    };
    const app = createApp({ ...server.deps, store: gated });
    const answers: string[] = [];
    for (const address of ['unknown@example.org', 'known@example.org']) {
      const request = app.request('/subscribe', { method: 'POST', body: new URLSearchParams({ address }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }, from);
      const answer = await Promise.race([Promise.resolve(request), new Promise<undefined>((resolve) => setTimeout(resolve, 2_000))]);
      expect(answer?.status, `the answer for ${address} waited for the store`).toBe(303);
      answers.push(JSON.stringify([[...answer!.headers], await answer!.text()]));
    }
    // Both were answered, alike, while the lookups of both addresses still waited at the gate.
    expect(new Set(answers).size).toBe(1);
    expect(held).toEqual(['find unknown@example.org', 'find known@example.org']);
    release();
    const mail = await newMail();
    expect(mail.map((message) => message.to)).toEqual(['unknown@example.org']);
    expect(await statusOf('unknown@example.org')).toBe('pending');
  });

  it('lets the reader reload the page after subscribing (redirect after POST), without posting again', async () => {
    const response = await post('/subscribe', { address: 'reloads@example.org' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/subscribe/sent');
    for (let reload = 0; reload < 3; reload += 1) {
      const page = await get('/subscribe/sent');
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('Check your inbox');
      expect(html).not.toContain('Method not allowed');
    }
    expect(await newMail()).toHaveLength(1);
  });

  it('never changes the name of a subscriber already on the list', async () => {
    await server.store.addSubscribers([{ address: 'named@example.org', name: 'Real Name', status: 'active', source: 'test' }], server.clock.now());
    await post('/subscribe', { address: 'named@example.org', name: 'Someone Else' });
    await server.deps.tasks.idle();
    expect((await server.store.findSubscriber('named@example.org'))?.name).toBe('Real Name');
  });

  it('keeps an unsubscribed address unsubscribed until the new link is confirmed; an older link cannot bring it back', async () => {
    await post('/subscribe', { address: 'returning@example.org' });
    const first = confirmationLink((await newMail())[0]!);
    await post(pathOf(first), '');
    expect(await statusOf('returning@example.org')).toBe('active');

    server.clock.advance(HOUR);
    const returning = (await server.store.findSubscriber('returning@example.org'))!;
    await post(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', returning)}`, 'List-Unsubscribe=One-Click');
    expect(await statusOf('returning@example.org')).toBe('unsubscribed');

    // The first link is still within its 48 hours but was mailed before the unsubscribe.
    server.clock.advance(HOUR);
    const stale = await post(pathOf(first), '');
    expect(stale.status).toBe(400);
    expect(await statusOf('returning@example.org')).toBe('unsubscribed');

    expect((await post('/subscribe', { address: 'returning@example.org' })).status).toBe(303);
    await server.deps.tasks.idle();
    expect(await statusOf('returning@example.org')).toBe('unsubscribed');
    const second = confirmationLink((await newMail())[0]!);
    server.clock.advance(60_000);
    expect((await post(pathOf(second), '')).status).toBe(200);
    expect(await statusOf('returning@example.org')).toBe('active');
  });

  it('mails nothing to an address that bounced or complained, and no link mailed before brings it back', async () => {
    const rule = { softBounces: 3, windowMs: 30 * 24 * HOUR };
    const returns = [
      ['bounced@example.org', 'hard-bounce', '5.1.1 user unknown'],
      ['complained@example.org', 'complaint', 'Feedback-Type: abuse'],
      ['left-by-mail@example.org', 'unsubscribe', ''],
    ] as const;
    const firstLinks = new Map<string, string>();
    for (const [address, kind, detail] of returns) {
      await post('/subscribe', { address });
      const link = confirmationLink((await newMail())[0]!);
      await post(pathOf(link), '');
      firstLinks.set(address, link);
      const subscriber = (await server.store.findSubscriber(address))!;
      // As `briefing inbox` applies a bounce report, a complaint and a mailto unsubscribe.
      await server.store.recordReturn({ key: `returned-${address}`, subscriberId: subscriber.id, editionId: null, kind, detail }, rule, server.clock.now());
    }
    server.clock.advance(HOUR);

    // The answer is the same redirect for all three; only the one who left by mail is asked to confirm again.
    for (const [address] of returns) expect((await post('/subscribe', { address })).status).toBe(303);
    expect((await newMail()).map((mail) => mail.to)).toEqual(['left-by-mail@example.org']);
    // The links of the first sign-up are within their 48 hours, and were mailed before the returns.
    for (const address of ['bounced@example.org', 'complained@example.org']) {
      expect((await post(pathOf(firstLinks.get(address)!), '')).status, address).toBe(400);
    }
    expect(await statusOf('bounced@example.org')).toBe('bounced');
    expect(await statusOf('complained@example.org')).toBe('unsubscribed');
    expect(await statusOf('left-by-mail@example.org')).toBe('unsubscribed');
  });

  it('refuses a confirmation link made for a removed subscriber, even if a new one gets the id', async () => {
    await post('/subscribe', { address: 'removed@example.org' });
    const link = confirmationLink((await newMail())[0]!);
    const removed = (await server.store.findSubscriber('removed@example.org'))!;
    await server.store.removeSubscriber(removed.id);
    server.clock.advance(2_000);
    await post('/subscribe', { address: 'newcomer@example.org' });
    await newMail();
    expect((await post(pathOf(link), '')).status).toBe(400);
    expect(await statusOf('newcomer@example.org')).toBe('pending');
  });

  it('accepts an international address and mails its confirmation (SMTPUTF8)', async () => {
    expect((await post('/subscribe', { address: 'dörte@bücher.example', name: 'Dörte' })).status).toBe(303);
    const [mail] = await newMail();
    expect(mail?.to).toBe('dörte@xn--bcher-kva.example');
    expect(await statusOf('dörte@bücher.example')).toBe('pending');
  });

  it('mails one address at most twice in a quarter hour, whoever asks', async () => {
    for (let attempt = 0; attempt < 4; attempt += 1) {
      from = fromClient(`198.51.100.${attempt + 1}`);
      expect((await post('/subscribe', { address: 'flooded@example.org' })).status).toBe(303);
    }
    expect(await newMail()).toHaveLength(2);
    server.clock.advance(15 * 60_000);
    await post('/subscribe', { address: 'flooded@example.org' });
    expect(await newMail()).toHaveLength(1);
  });

  it('puts none of a stranger\'s text in the confirmation mail, and counts +tag variants as one inbox for its limit', async () => {
    const lure = 'Security team: your account closes today, verify at https://evil.example/verify';
    for (let index = 1; index <= 6; index += 1) {
      from = fromClient(`198.18.1.${index}`);
      expect((await post('/subscribe', { address: `target+${index}@example.org`, name: lure })).status).toBe(303);
    }
    const mail = await newMail();
    expect(mail).toHaveLength(2);
    for (const message of mail) {
      expect(message.to).toMatch(/^target\+\d@example\.org$/);
      expect(message.text).not.toContain('evil.example');
    }
    // The name is kept with the pending address, and shown once its owner confirms.
    expect((await server.store.findSubscriber('target+1@example.org'))?.name).toBe(lure);
  });

  it('counts case variants of an address (Target@, target@, TARGET@) as one inbox for the confirmation limit and the list', async () => {
    const variants = ['Case.Target@example.org', 'case.target@Example.org', 'CASE.TARGET@EXAMPLE.ORG', 'case.Target@example.ORG', 'Case.target@example.org', 'cASE.tARGET@example.org'];
    for (const [index, address] of variants.entries()) {
      from = fromClient(`198.18.0.${index + 1}`);
      expect((await post('/subscribe', { address })).status).toBe(303);
    }
    const mail = await newMail();
    expect(mail).toHaveLength(2);
    // The address is kept as first typed (the domain lower-cased), and there is one subscriber.
    expect(mail.map((message) => message.to)).toEqual(['Case.Target@example.org', 'Case.Target@example.org']);
    expect((await server.store.findSubscriber('CASE.target@example.org'))?.address).toBe('Case.Target@example.org');
  });

  it('refuses a link after 48 hours as expired (400)', async () => {
    await post('/subscribe', { address: 'slow@example.org' });
    const link = confirmationLink((await newMail())[0]!);
    server.clock.advance(48 * HOUR + 1000);
    for (const response of [await get(pathOf(link)), await post(pathOf(link), '')]) {
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('expired');
    }
    expect(await statusOf('slow@example.org')).toBe('pending');
    server.clock.advance(-(48 * HOUR + 1000));
  });

  it.each([
    ['an empty address', { address: '' }, 'The email address is empty'],
    ['no address field', {}, 'The email address is empty'],
    ['no domain dot', { address: 'someone@localhost' }, 'needs a dot'],
    ['markup', { address: '"><script>alert(1)</script>@example.org' }, 'is not a valid local part'],
    ['a CRLF header injection', { address: 'a@example.org\r\nBcc: victim@example.org' }, 'control character'],
    ['a name with CRLF', { address: 'ok@example.org', name: 'Ada\r\nBcc: x@example.org' }, 'The name contains a control character'],
  ])('answers 400 with the form again for %s, escaping what was sent', async (_label, form, message) => {
    const response = await post('/subscribe', form as Record<string, string>);
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain(message);
    expect(html).toContain('<form class="subscribe" method="post" action="/subscribe">');
    expect(html).not.toContain('<script>');
    expect(await newMail()).toHaveLength(0);
  });

  it('gives the refused form back with the home page form\'s fields in the same order, and says what an address looks like in plain words', async () => {
    await buildSite(publication.config);
    /** The form's fields and their labels as a reader meets them, top to bottom. */
    const fields = (html: string): string[] => {
      const elements = elementsOf(html);
      const form = elements.findIndex((element) => element.name === 'form' && element.attributes.class === 'subscribe');
      const inside = (element: ElementView): boolean => element.ancestors.includes('form');
      return elements
        .slice(form + 1)
        .filter(inside)
        .filter((element) => ['label', 'input', 'legend', 'button'].includes(element.name))
        .map((element) => (element.name === 'input' ? `input ${element.attributes.name}=${element.attributes.value ?? ''}` : `${element.name} ${element.text.trim()}`));
    };
    const home = fields(readFileSync(path.join(publication.output, 'index.html'), 'utf8'));
    expect(home.slice(0, 4)).toEqual(['label Email address', 'input address=', 'label Name (optional)', 'input name=']);
    expect(home.at(-1)).toBe('button Subscribe');
    const response = await post('/subscribe', { address: 'plainaddress', name: 'Ada' });
    expect(response.status).toBe(400);
    const html = await response.text();
    // The same fields in the same order, filled with what was sent.
    expect(fields(html)).toEqual(home.map((field) => field.replace('input address=', 'input address=plainaddress').replace('input name=', 'input name=Ada')));
    expect(html).toContain('is not an address: it needs a name, an @ and a domain, like you@example.org');
    expect(html).not.toMatch(/local-part|local part|octets/);
  });

  it('answers 400 to a body that is not a form', async () => {
    const response = await Promise.resolve(
      server.app.request('/subscribe', { method: 'POST', body: '--x\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=x' } }, from),
    );
    expect(response.status).toBe(400);
  });
});

describe('signed links', () => {
  let target: Subscriber;
  let id: number;
  let good: string;

  beforeAll(async () => {
    await server.store.addSubscribers([{ address: 'target@example.org', status: 'active', source: 'test' }], server.clock.now());
    target = (await server.store.findSubscriber('target@example.org'))!;
    id = target.id;
    good = createToken(TEST_SECRET, 'unsubscribe', target);
  });

  /** Tokens that must not work for `purpose`, though some are genuine tokens of the other purpose. */
  const forgeries = (purpose: 'confirm' | 'unsubscribe'): Array<[string, string]> => {
    const [subscriber, mac] = good.split('.') as [string, string];
    const flipped = `${mac.slice(0, 10)}${mac[10] === 'A' ? 'B' : 'A'}${mac.slice(11)}`;
    return [
      ['an altered signature', `${subscriber}.${flipped}`],
      ['another subscriber id with the same signature', `${id + 1}.${mac}`],
      ['a token signed with another secret', createToken('some-other-secret-0123456789', purpose, target)],
      [
        'a token of the other purpose',
        purpose === 'unsubscribe' ? createToken(TEST_SECRET, 'confirm', target, new Date('2030-01-01T00:00:00Z')) : good,
      ],
      ['a confirmation token with its expiry pushed back', createToken(TEST_SECRET, 'confirm', target, new Date('2030-01-01T00:00:00Z')).replace('.18', '.19')],
      ['a truncated token', good.slice(0, -3)],
      ['garbage', '<script>alert(1)</script>'],
      ['an empty token', ''],
      ['a huge token', 'A'.repeat(5000)],
    ];
  };

  it('GET /unsubscribe shows a button that posts and changes nothing', async () => {
    const response = await get(`/unsubscribe?token=${good}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<form method="post" action="/unsubscribe?token=${good}">`);
    expect(html).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect(html).toContain('target@example.org');
    expect(await statusOf('target@example.org')).toBe('active');
  });

  it('refuses forged and altered tokens with 400 on every link route, changing nothing', async () => {
    for (const [method, route, purpose] of [
      ['GET', '/unsubscribe', 'unsubscribe'],
      ['POST', '/unsubscribe', 'unsubscribe'],
      ['GET', '/confirm', 'confirm'],
      ['POST', '/confirm', 'confirm'],
    ] as const) {
      for (const [label, token] of forgeries(purpose)) {
        const url = `${route}?token=${encodeURIComponent(token)}`;
        const response = method === 'GET' ? await get(url) : await post(url, 'List-Unsubscribe=One-Click');
        expect(response.status, `${method} ${route} with ${label}`).toBe(400);
        const html = await response.text();
        expect(html).toContain('This link does not work');
        expect(html).not.toContain('<script>');
        from = fromClient(`203.0.113.${Math.floor(Math.random() * 250) + 1}`);
      }
    }
    expect((await get('/unsubscribe')).status).toBe(400);
    expect(await statusOf('target@example.org')).toBe('active');
  });

  it('POST /unsubscribe with List-Unsubscribe=One-Click (RFC 8058) unsubscribes with 200, no cookie needed', async () => {
    const response = await post(`/unsubscribe?token=${good}`, 'List-Unsubscribe=One-Click');
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).toContain('You are unsubscribed');
    const subscriber = await server.store.findSubscriber('target@example.org');
    expect(subscriber?.status).toBe('unsubscribed');
    const when = subscriber?.unsubscribedAt;

    // Again, and in the multipart form some mail providers use: still 200, the first date kept.
    server.clock.advance(60_000);
    const boundary = 'b0undary';
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    const again = await post(`/unsubscribe?token=${good}`, multipart, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    expect(again.status).toBe(200);
    expect((await server.store.findSubscriber('target@example.org'))?.unsubscribedAt).toEqual(when);
    expect((await get(`/unsubscribe?token=${good}`)).status).toBe(200);
  });

  it('leaves unsubscribed addresses out of the next edition', async () => {
    await server.store.addSubscribers(
      [
        { address: 'stays@example.org', status: 'active', source: 'test' },
        { address: 'leaves@example.org', status: 'active', source: 'test' },
      ],
      server.clock.now(),
    );
    const leaving = (await server.store.findSubscriber('leaves@example.org'))!;
    expect((await post(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', leaving)}`, 'List-Unsubscribe=One-Click')).status).toBe(200);
    const now = server.clock.now();
    await server.store.createEdition({ id: '2025-07-25', slot: now, status: 'planned', cutoff: now, subject: 'Test', note: null, memory: null }, now);
    await server.store.enqueueDeliveries('2025-07-25', now);
    const deliveries = await server.store.listDeliveries({ editionId: '2025-07-25', limit: 1000 });
    const addresses = deliveries.map((delivery) => delivery.address);
    expect(addresses).toContain('stays@example.org');
    expect(addresses).not.toContain('leaves@example.org');
    expect(addresses).not.toContain('target@example.org');
  });

  it('never writes a token into the access log', async () => {
    const lines = accessRecords(server.records);
    expect(lines.some((line) => line.path === '/unsubscribe')).toBe(true);
    expect(JSON.stringify(server.records)).not.toContain(good.split('.')[1]!);
  });
});

describe('links forged without the subscriber link key', () => {
  let forger = 0;
  /** Every forged request from a client of its own, so the per-client limit never answers in place of the token check. */
  const fresh = (): void => {
    forger += 1;
    from = fromClient(`203.0.113.${forger}`);
  };
  /** A token as the old code signed it: HMAC over purpose, id and expiry alone, so the secret was all it took. */
  const idOnlyToken = (secret: string, purpose: 'confirm' | 'unsubscribe', subscriberId: number, expires = ''): string => {
    const mac = createHmac('sha256', secret).update(`briefing-token\0${purpose}\0${subscriberId}\0${expires}`).digest('base64url');
    return expires === '' ? `${subscriberId}.${mac}` : `${subscriberId}.${expires}.${mac}`;
  };

  /** The app over the same store, its links signed under another environment's secrets. */
  async function appWith(env: Record<string, string>): Promise<{ request(url: string, body: string): Promise<Response>; close(): Promise<void> }> {
    const { logger } = captureLogger();
    const config = { ...publication.config, env: readEnvironment({ BRIEFING_SMTP_URL: smtp.url, ...env }) };
    const transport = await createTransport(config, 'confirmations', logger);
    const deps = buildDependencies({ config, store: server.store, transport, dkim: dkimOf(config), clock: server.clock, logger });
    const app = createApp(deps);
    return {
      request: (url, body) =>
        Promise.resolve(app.request(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, from)),
      close: async () => {
        await deps.tasks.close();
        await transport.close();
      },
    };
  }

  it('a token forged with the public development key and sequential ids unsubscribes no one', async () => {
    const addresses = ['forge1@example.org', 'forge2@example.org', 'forge3@example.org', 'forge4@example.org', 'forge5@example.org'];
    await server.store.addSubscribers(addresses.map((address) => ({ address, status: 'active' as const, source: 'test' })), server.clock.now());
    const ids = await Promise.all(addresses.map(async (address) => (await server.store.findSubscriber(address))!.id));
    // A server run without BRIEFING_SECRET (as `serve` no longer allows) signs with the development key.
    const developmentKey = readEnvironment({}).secret;
    const careless = await appWith({});
    try {
      for (const subscriberId of ids) {
        for (let guess = 0; guess < 3; guess += 1) {
          const forged = [
            idOnlyToken(developmentKey, 'unsubscribe', subscriberId),
            createToken(developmentKey, 'unsubscribe', { id: subscriberId, linkKey: `guessed-link-key-${guess}-0000` }),
          ];
          for (const token of forged) {
            fresh();
            expect((await careless.request(`/unsubscribe?token=${token}`, 'List-Unsubscribe=One-Click')).status).toBe(400);
            expect((await post(`/unsubscribe?token=${token}`, 'List-Unsubscribe=One-Click')).status).toBe(400);
          }
        }
        // Even the real secret, leaked, forges nothing without the key stored with the row.
        fresh();
        expect((await post(`/unsubscribe?token=${idOnlyToken(TEST_SECRET, 'unsubscribe', subscriberId)}`, 'List-Unsubscribe=One-Click')).status).toBe(400);
      }
    } finally {
      await careless.close();
    }
    for (const address of addresses) expect((await server.store.findSubscriber(address))?.status).toBe('active');
  });

  it('a confirmation token forged with the development key (or a leaked secret) activates no one', async () => {
    await post('/subscribe', { address: 'nobody-confirmed@example.org' });
    await newMail();
    const pending = (await server.store.findSubscriber('nobody-confirmed@example.org'))!;
    const expires = String(Math.floor(server.clock.now().getTime() / 1000) + 3600);
    const developmentKey = readEnvironment({}).secret;
    const careless = await appWith({});
    try {
      for (const token of [idOnlyToken(developmentKey, 'confirm', pending.id, expires), idOnlyToken(TEST_SECRET, 'confirm', pending.id, expires)]) {
        fresh();
        expect((await careless.request(`/confirm?token=${token}`, '')).status).toBe(400);
        expect((await post(`/confirm?token=${token}`, '')).status).toBe(400);
      }
    } finally {
      await careless.close();
    }
    expect((await server.store.findSubscriber('nobody-confirmed@example.org'))?.status).toBe('pending');
  });

  it('accepts links of BRIEFING_SECRET_PREVIOUS during a rotation, and not once it is removed', async () => {
    await server.store.addSubscribers(
      ['rotate1@example.org', 'rotate2@example.org'].map((address) => ({ address, status: 'active' as const, source: 'test' })),
      server.clock.now(),
    );
    const [first, second] = await Promise.all(['rotate1@example.org', 'rotate2@example.org'].map(async (address) => (await server.store.findSubscriber(address))!));
    const NEW_SECRET = 'the-rotated-secret-0123456789';
    const rotating = await appWith({ BRIEFING_SECRET: NEW_SECRET, BRIEFING_SECRET_PREVIOUS: TEST_SECRET });
    const rotated = await appWith({ BRIEFING_SECRET: NEW_SECRET });
    try {
      // A link mailed under the old secret still works during the grace period.
      expect((await rotating.request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', first!)}`, 'List-Unsubscribe=One-Click')).status).toBe(200);
      expect((await server.store.findSubscriber('rotate1@example.org'))?.status).toBe('unsubscribed');
      // Once BRIEFING_SECRET_PREVIOUS is gone, old links stop working; new ones work.
      expect((await rotated.request(`/unsubscribe?token=${createToken(TEST_SECRET, 'unsubscribe', second!)}`, 'List-Unsubscribe=One-Click')).status).toBe(400);
      expect((await server.store.findSubscriber('rotate2@example.org'))?.status).toBe('active');
      expect((await rotated.request(`/unsubscribe?token=${createToken(NEW_SECRET, 'unsubscribe', second!)}`, 'List-Unsubscribe=One-Click')).status).toBe(200);
      expect((await server.store.findSubscriber('rotate2@example.org'))?.status).toBe('unsubscribed');
    } finally {
      await rotating.close();
      await rotated.close();
    }
  });
});
