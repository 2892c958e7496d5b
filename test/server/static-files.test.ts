import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, EMAIL_PAGE_CONTENT_SECURITY_POLICY } from '../../src/server/security-headers.js';
import { accessRecords, createPublication, openTestServer, type TestPublication, type TestServer } from './support.js';

const SECRET = 'TOP-SECRET-OUTSIDE-OUTPUT';
const MODIFIED = new Date('2025-07-23T18:40:00Z');
const padding = 'x'.repeat(2000);

const FILES: Record<string, string> = {
  'feed.xml': `<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Briefing</title><description>${padding}</description></channel></rss>\n`,
  'atom.xml': `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>Briefing</title><subtitle>${padding}</subtitle></feed>\n`,
  'feed.json': `${JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'Briefing', description: padding, items: [] })}\n`,
  'index.html': `<!doctype html><html><head><title>Briefing</title></head><body><form method="post" action="/subscribe"></form>${padding}</body></html>\n`,
  'style.css': 'body { margin: 0 }\n',
  'archive/feed-1.xml': `<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Archive 1</title></channel></rss>\n`,
  'archive/atom-1.xml': `<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>Archive 1</title></feed>\n`,
  'archive/feed-1.json': `{"version":"https://jsonfeed.org/version/1.1","title":"Archive 1","items":[]}\n`,
  'articles/talks.html': '<!doctype html><title>Talks</title>\n',
  'editions/2025-07-23/index.html': '<!doctype html><title>Edition 2025-07-23</title>\n',
  'editions/2025-07-23/index.txt': 'Edition 2025-07-23\n',
  '.build-manifest.json': '{"secret":"manifest"}\n',
  'outbox/2025-07-23/1.eml': 'To: someone@example.org\r\n\r\nprivate\r\n',
  'articles/.hidden.html': 'hidden\n',
};

let publication: TestPublication;
let server: TestServer;

beforeAll(async () => {
  publication = createPublication();
  for (const [name, text] of Object.entries(FILES)) {
    const file = path.join(publication.output, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    utimesSync(file, MODIFIED, MODIFIED);
  }
  writeFileSync(path.join(publication.dir, 'secret.txt'), SECRET);
  mkdirSync(path.join(publication.dir, 'private'));
  writeFileSync(path.join(publication.dir, 'private', 'secret.txt'), SECRET);
  symlinkSync(path.join(publication.dir, 'secret.txt'), path.join(publication.output, 'leak.txt'));
  symlinkSync('../private', path.join(publication.output, 'leakdir'));
  symlinkSync('/etc/passwd', path.join(publication.output, 'passwd.html'));
  symlinkSync('index.html', path.join(publication.output, 'home.html'));
  server = await openTestServer(publication);
});

afterAll(async () => {
  await server.close();
  publication.cleanup();
});

const get = (url: string, headers: Record<string, string> = {}): Promise<Response> => Promise.resolve(server.app.request(url, { headers }));

describe('media types', () => {
  it.each([
    ['/feed.xml', 'application/rss+xml; charset=utf-8'],
    ['/atom.xml', 'application/atom+xml; charset=utf-8'],
    ['/feed.json', 'application/feed+json; charset=utf-8'],
    ['/archive/feed-1.xml', 'application/rss+xml; charset=utf-8'],
    ['/archive/atom-1.xml', 'application/atom+xml; charset=utf-8'],
    ['/archive/feed-1.json', 'application/feed+json; charset=utf-8'],
    ['/', 'text/html; charset=utf-8'],
    ['/index.html', 'text/html; charset=utf-8'],
    ['/articles/talks.html', 'text/html; charset=utf-8'],
    ['/editions/2025-07-23/', 'text/html; charset=utf-8'],
    ['/editions/2025-07-23/index.txt', 'text/plain; charset=utf-8'],
    ['/style.css', 'text/css; charset=utf-8'],
    ['/home.html', 'text/html; charset=utf-8'],
  ])('%s is served as %s', async (url, type) => {
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
  });

  it('serves / and /editions/D/ from their index.html, byte for byte', async () => {
    expect(await (await get('/')).text()).toBe(FILES['index.html']);
    expect(await (await get('/editions/2025-07-23/')).text()).toBe(FILES['editions/2025-07-23/index.html']);
  });

  it('redirects a folder asked for without its slash (301, relative Location)', async () => {
    const response = await get('/editions/2025-07-23');
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('2025-07-23/');
  });
});

describe('validators and 304', () => {
  it('gives a strong ETag from the content and Last-Modified from the file', async () => {
    const first = await get('/feed.xml');
    const second = await get('/feed.xml');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(second.headers.get('etag')).toBe(etag);
    expect(first.headers.get('last-modified')).toBe(MODIFIED.toUTCString());
    expect((await get('/atom.xml')).headers.get('etag')).not.toBe(etag);
  });

  it('changes the ETag when the bytes change', async () => {
    const file = path.join(publication.output, 'articles/talks.html');
    const before = (await get('/articles/talks.html')).headers.get('etag');
    writeFileSync(file, '<!doctype html><title>Talks, updated</title>\n');
    utimesSync(file, new Date('2025-07-24T10:00:00Z'), new Date('2025-07-24T10:00:00Z'));
    const after = await get('/articles/talks.html');
    expect(after.headers.get('etag')).not.toBe(before);
    expect(after.headers.get('last-modified')).toBe(new Date('2025-07-24T10:00:00Z').toUTCString());
    expect(await after.text()).toContain('updated');
  });

  it.each([
    ['the same ETag', (etag: string) => ({ 'if-none-match': etag }), 304],
    ['its weak form', (etag: string) => ({ 'if-none-match': `W/${etag}` }), 304],
    ['a list holding it', (etag: string) => ({ 'if-none-match': `"other", ${etag}` }), 304],
    ['*', () => ({ 'if-none-match': '*' }), 304],
    ['another ETag', () => ({ 'if-none-match': '"not-this-one"' }), 200],
    ['If-Modified-Since equal to Last-Modified', () => ({ 'if-modified-since': MODIFIED.toUTCString() }), 304],
    ['If-Modified-Since later', () => ({ 'if-modified-since': new Date('2026-01-01T00:00:00Z').toUTCString() }), 304],
    ['If-Modified-Since earlier', () => ({ 'if-modified-since': new Date('2025-07-23T18:39:59Z').toUTCString() }), 200],
    ['an unparseable date', () => ({ 'if-modified-since': 'yesterday' }), 200],
    ['a stale ETag with a later date (ETag wins)', () => ({ 'if-none-match': '"stale"', 'if-modified-since': new Date('2026-01-01T00:00:00Z').toUTCString() }), 200],
  ])('GET with %s answers %i', async (_label, headers, status) => {
    const etag = (await get('/feed.xml')).headers.get('etag') ?? '';
    const response = await get('/feed.xml', headers(etag));
    expect(response.status).toBe(status);
    if (status === 304) {
      expect(await response.text()).toBe('');
      expect(response.headers.get('etag')).toBe(etag);
      expect(response.headers.get('cache-control')).toContain('must-revalidate');
    }
  });
});

describe('compression', () => {
  it.each([
    ['br', 'br', (body: Buffer) => brotliDecompressSync(body)],
    ['gzip', 'gzip', (body: Buffer) => gunzipSync(body)],
    ['gzip, deflate, br', 'br', (body: Buffer) => brotliDecompressSync(body)],
    ['br;q=0.5, gzip;q=0.9', 'gzip', (body: Buffer) => gunzipSync(body)],
    ['gzip, br;q=0', 'gzip', (body: Buffer) => gunzipSync(body)],
    ['*', 'br', (body: Buffer) => brotliDecompressSync(body)],
  ])('Accept-Encoding: %s gives %s that decodes to the file', async (accept, coding, decode) => {
    const response = await get('/feed.xml', { 'accept-encoding': accept });
    expect(response.headers.get('content-encoding')).toBe(coding);
    expect(response.headers.get('vary')).toBe('Accept-Encoding');
    const body = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(body.length);
    expect(body.length).toBeLessThan(FILES['feed.xml']!.length);
    expect(decode(body).toString('utf8')).toBe(FILES['feed.xml']);
  });

  it.each([[undefined], ['identity'], ['deflate'], ['br;q=0, gzip;q=0']])('Accept-Encoding: %s gives the bytes as they are', async (accept) => {
    const response = await get('/feed.xml', accept === undefined ? {} : { 'accept-encoding': accept });
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(response.headers.get('vary')).toBe('Accept-Encoding');
    expect(await response.text()).toBe(FILES['feed.xml']);
  });

  it('gives each coding its own strong ETag, and any of them revalidates', async () => {
    const plain = (await get('/feed.xml')).headers.get('etag') ?? '';
    const br = (await get('/feed.xml', { 'accept-encoding': 'br' })).headers.get('etag') ?? '';
    expect(br).not.toBe(plain);
    expect(br.startsWith(plain.slice(0, -1))).toBe(true);
    expect((await get('/feed.xml', { 'accept-encoding': 'br', 'if-none-match': br })).status).toBe(304);
    expect((await get('/feed.xml', { 'accept-encoding': 'gzip', 'if-none-match': br })).status).toBe(304);
  });

  it('leaves small files uncompressed', async () => {
    const response = await get('/style.css', { 'accept-encoding': 'br, gzip' });
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(await response.text()).toBe(FILES['style.css']);
  });
});

describe('cache headers', () => {
  it.each([
    ['/feed.xml', 'public, max-age=300, must-revalidate'],
    ['/atom.xml', 'public, max-age=300, must-revalidate'],
    ['/feed.json', 'public, max-age=300, must-revalidate'],
    ['/', 'public, max-age=300, must-revalidate'],
    ['/archive/feed-1.xml', 'public, max-age=3600'],
    ['/articles/talks.html', 'public, max-age=3600'],
    ['/editions/2025-07-23/', 'public, max-age=3600'],
  ])('%s: %s', async (url, cacheControl) => {
    expect((await get(url)).headers.get('cache-control')).toBe(cacheControl);
  });
});

describe('HEAD', () => {
  it('answers with the headers of GET and no body', async () => {
    const response = await server.app.request('/feed.xml', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(FILES['feed.xml']!)));
    expect(response.headers.get('etag')).toMatch(/^"/);
    expect(await response.text()).toBe('');
  });
});

describe('paths that must not escape output/', () => {
  it.each([
    ['/../secret.txt', 404],
    ['/../../../../etc/passwd', 404],
    ['/%2e%2e/secret.txt', 404],
    ['/%2E%2E/%2e%2e/etc/passwd', 404],
    ['/..%2fsecret.txt', 400],
    ['/%2e%2e%2fsecret.txt', 400],
    ['/archive/..%2f..%2fsecret.txt', 400],
    ['/%252e%252e/secret.txt', 400],
    ['/%252e%252e%252fsecret.txt', 400],
    ['/%25252e%25252e/secret.txt', 400],
    ['/feed.xml%00', 400],
    ['/%00', 400],
    ['/index.html%00.txt', 400],
    ['/%2fetc%2fpasswd', 400],
    ['/..%5csecret.txt', 400],
    ['/%5c..%5csecret.txt', 400],
    ['/%c0%ae%c0%ae/secret.txt', 400],
    ['/%e0%80%ae%e0%80%ae/secret.txt', 400],
    ['/%zz', 400],
    ['/leak.txt', 404],
    ['/leakdir/secret.txt', 404],
    ['/leakdir/', 404],
    ['/passwd.html', 404],
    ['/.build-manifest.json', 404],
    ['/%2ebuild-manifest.json', 404],
    ['/articles/.hidden.html', 404],
    ['/outbox/2025-07-23/1.eml', 404],
    ['/outbox/', 404],
    ['//etc/passwd', 404],
    ['/no-such-file.xml', 404],
  ])('%s answers %i and never a file outside output/', async (url, status) => {
    const response = await get(url);
    const body = await response.text();
    expect(response.status).toBe(status);
    expect(body).not.toContain(SECRET);
    expect(body).not.toContain('root:');
    expect(body).not.toContain('manifest');
    expect(body).not.toContain('private');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('follows a symlink that stays inside output/', async () => {
    const response = await get('/home.html');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(FILES['index.html']);
  });
});

describe('methods and errors', () => {
  it.each([
    ['POST', '/feed.xml', 'GET, HEAD'],
    ['PUT', '/index.html', 'GET, HEAD'],
    ['DELETE', '/', 'GET, HEAD'],
    ['GET', '/subscribe', 'POST'],
    ['PUT', '/confirm', 'GET, HEAD, POST'],
    ['DELETE', '/unsubscribe', 'GET, HEAD, POST'],
    ['POST', '/healthz', 'GET, HEAD'],
  ])('%s %s answers 405 with Allow: %s', async (method, url, allow) => {
    const response = await server.app.request(url, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(await response.text()).toContain('Method not allowed');
  });

  it('puts the strict security headers on files, pages and errors', async () => {
    for (const url of ['/', '/feed.xml', '/missing', '/%00', '/healthz']) {
      const response = await get(url);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
  });

  it("lets the web version of an edition keep its email's inline styles, and nothing more", async () => {
    const response = await get('/editions/2025-07-23/');
    expect(response.headers.get('content-security-policy')).toBe(EMAIL_PAGE_CONTENT_SECURITY_POLICY);
    expect(EMAIL_PAGE_CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect((await get('/editions/2025-07-23/index.txt')).headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('GET /healthz answers 200 JSON', async () => {
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('logs one structured line per request: method, path without query, status, bytes, ms', async () => {
    const before = accessRecords(server.records).length;
    await get('/feed.xml?token=do-not-log-me');
    const lines = accessRecords(server.records).slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'GET', path: '/feed.xml', status: 200, bytes: Buffer.byteLength(FILES['feed.xml']!) });
    expect(typeof lines[0]!.ms).toBe('number');
    expect(JSON.stringify(server.records)).not.toContain('do-not-log-me');
  });
});

describe('the file cache', () => {
  it('serves the right bytes when the cache holds less than the files', async () => {
    const { createStaticFiles } = await import('../../src/server/static-files.js');
    const files = createStaticFiles({ root: publication.output, cacheBytes: 1000 });
    for (let round = 0; round < 3; round += 1) {
      for (const name of ['feed.xml', 'atom.xml', 'feed.json']) {
        const result = await files.serve(`/${name}`, new Headers({ 'accept-encoding': round === 1 ? 'br' : 'identity' }));
        expect(result.kind).toBe('response');
        if (result.kind !== 'response' || result.body === null) continue;
        const body = round === 1 ? brotliDecompressSync(result.body) : Buffer.from(result.body);
        expect(body.toString('utf8')).toBe(FILES[name]);
      }
    }
  });
});
