/**
 * The SMTP client against a server that attacks it: raw `net` servers on 127.0.0.1 that say
 * exactly what a hostile or broken server would, byte for byte, where `smtp-server` cannot.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpTransport } from '../../src/delivery/smtp-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import type { OutgoingMessage, Transport } from '../../src/delivery/transport.js';
import { transportFailure as failure } from './transport-fixtures.js';

const logger = pino({ level: 'silent' });
const servers: net.Server[] = [];
let transport: Transport | undefined;
let certificate: { key: string; cert: string };
let certificateDir: string;

beforeAll(() => {
  // A throwaway self-signed certificate: the client is told not to verify it (tls.rejectUnauthorized=false).
  certificateDir = mkdtempSync(path.join(tmpdir(), 'briefing-hostile-smtp-'));
  const key = path.join(certificateDir, 'key.pem');
  const cert = path.join(certificateDir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-days', '2'], {
    stdio: 'ignore',
  });
  certificate = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
});

afterAll(() => rmSync(certificateDir, { recursive: true, force: true }));

afterEach(async () => {
  await transport?.close();
  transport = undefined;
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

function message(): OutgoingMessage {
  const raw = Buffer.from('From: <briefing@example.org>\r\nTo: <reader@example.com>\r\nSubject: test\r\nMessage-ID: <hostile@example.org>\r\n\r\nHello.\r\n');
  return { messageId: '<hostile@example.org>', envelope: { from: 'briefing@example.org', to: 'reader@example.com' }, raw };
}

/** A raw TCP server on 127.0.0.1 whose `session` talks to each client. */
async function listen(session: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    session(socket);
  });
  // Closing the server also drops its clients, so a stream that never ends cannot keep a test open.
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Calls `onLine` with each CRLF-terminated line the client sends on `stream`. */
function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      onLine(line);
    }
  });
}

/**
 * A server that greets, answers each command line with `answer(line, secure, reply)` and, on STARTTLS,
 * writes `220 ready` followed by `injected` in one write (what a man in the middle would add), then
 * goes on over TLS. Lines sent in plain text after STARTTLS are not read.
 */
function startTlsServer(answer: (line: string, secure: boolean, reply: (text: string) => void) => void, injected = ''): (socket: net.Socket) => void {
  return (socket) => {
    socket.write('220 hostile.example ESMTP\r\n');
    let secure = false;
    readLines(socket, (line) => {
      if (secure) return;
      if (line.toUpperCase() !== 'STARTTLS') {
        answer(line, false, (text) => socket.write(text));
        return;
      }
      answer(line, false, () => undefined);
      secure = true;
      socket.write(`220 ready\r\n${injected}`);
      socket.removeAllListeners('data');
      const upgraded = new tls.TLSSocket(socket, { isServer: true, ...certificate });
      upgraded.on('error', () => undefined);
      readLines(upgraded, (tlsLine) => answer(tlsLine, true, (text) => upgraded.write(text)));
    });
  };
}

/** Writes `line` again and again, as fast as the client reads, until the connection closes. */
function stream(socket: net.Socket, first: string, line: string): void {
  socket.write(first);
  const pump = (): void => {
    while (!socket.destroyed && socket.write(line)) {
      // Keep the kernel buffer full; `drain` resumes once the client has read some.
    }
  };
  socket.on('drain', pump);
  pump();
}


describe('SMTP client against a hostile server', () => {
  it.each([
    ['an endless 220- continuation reply', '220-', '220-flood flood flood flood flood flood flood flood flood flood flood\r\n', /more than 100 lines/],
    ['an endless reply line with no end', '220-', 'x'.repeat(4096), /reply line longer than 1000 bytes/],
    ['a reply of long lines', '', `220-${'y'.repeat(900)}\r\n`, /reply of more than 32768 bytes/],
  ])('fails fast on %s (memory exhaustion attack) with a protocol error naming the server and the limit', async (_label, first, line, limit) => {
    const port = await listen((socket) => stream(socket, first, line));
    transport = createSmtpTransport(parseSmtpUrl(`smtp://127.0.0.1:${port}`), { maxConnections: 1, timeoutMs: 30_000, logger });
    const started = performance.now();
    const error = await failure(transport.send(message()));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(error).toMatchObject({ temporary: true, fatal: false });
    expect(error.message).toMatch(/^protocol error: /);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    // The limit that stopped it bounds what was held: the old client grew to gigabytes here.
    expect(error.message).toMatch(limit);
  });

  it.each([
    ['a whole reply', '250-AUTH LOGIN\r\n250 SIZE 10\r\n'],
    ['reply lines that the post-TLS EHLO reply would complete', '250-hostile.example\r\n250-AUTH LOGIN\r\n250-SIZE 10\r\n'],
  ])('refuses plaintext injected after the 220 to STARTTLS, %s (CVE-2011-0411 command injection), sending neither AUTH nor SIZE=', async (_label, injected) => {
    const received: string[] = [];
    const port = await listen(
      startTlsServer((line, secure, reply) => {
        received.push(`${secure ? 'tls' : 'plain'}: ${line}`);
        const verb = line.split(' ')[0]?.toUpperCase();
        if (verb === 'EHLO') reply(secure ? '250-hostile.example\r\n250 PIPELINING\r\n' : '250-hostile.example\r\n250 STARTTLS\r\n');
        else if (verb === 'AUTH') reply('235 2.7.0 accepted\r\n');
        else if (verb === 'DATA') reply('354 go on\r\n');
        else if (verb === 'QUIT') reply('221 bye\r\n');
        else if (verb !== 'STARTTLS') reply('250 ok\r\n');
      }, injected),
    );
    transport = createSmtpTransport(parseSmtpUrl(`smtp://briefing:s3cret@127.0.0.1:${port}?requireTLS=true&tls.rejectUnauthorized=false`), {
      maxConnections: 1,
      timeoutMs: 5000,
      logger,
    });
    const error = await failure(transport.send(message()));
    expect(error.message).toMatch(/plain text after its 220 reply to STARTTLS/);
    expect(received.some((line) => /^(plain|tls): AUTH\b/i.test(line))).toBe(false);
    expect(received.some((line) => /SIZE=/i.test(line))).toBe(false);
    expect(received.some((line) => /^(plain|tls): MAIL FROM/i.test(line))).toBe(false);
  });
  it('takes the capabilities only from the EHLO sent over TLS: what the plain-text EHLO offered (SIZE, AUTH LOGIN) is forgotten after STARTTLS', async () => {
    const received: string[] = [];
    let inData = false;
    const port = await listen(
      startTlsServer((line, secure, reply) => {
        received.push(`${secure ? 'tls' : 'plain'}: ${line}`);
        if (inData) {
          if (line === '.') {
            inData = false;
            reply('250 2.0.0 queued\r\n');
          }
          return;
        }
        const verb = line.split(' ')[0]?.toUpperCase();
        // Before TLS (where a man in the middle may write) it offers what it does not offer over TLS.
        if (verb === 'EHLO') reply(secure ? '250-hostile.example\r\n250 AUTH PLAIN\r\n' : '250-hostile.example\r\n250-SIZE 10\r\n250-AUTH LOGIN\r\n250 STARTTLS\r\n');
        else if (verb === 'AUTH') reply('235 2.7.0 accepted\r\n');
        else if (verb === 'DATA') {
          inData = true;
          reply('354 go on\r\n');
        } else if (verb === 'QUIT') reply('221 bye\r\n');
        else if (verb !== 'STARTTLS') reply('250 ok\r\n');
      }),
    );
    transport = createSmtpTransport(parseSmtpUrl(`smtp://briefing:s3cret@127.0.0.1:${port}?requireTLS=true&tls.rejectUnauthorized=false`), {
      maxConnections: 1,
      timeoutMs: 5000,
      logger,
    });
    await transport.send(message());
    // A SIZE= of the plain-text offer would be refused by a server that never offered it; AUTH LOGIN was offered in plain text only.
    expect(received.filter((line) => /^(plain|tls): (AUTH|MAIL FROM)/i.test(line)).map((line) => line.replace(/^(tls: AUTH PLAIN) \S+$/, '$1 …'))).toEqual([
      'tls: AUTH PLAIN …',
      'tls: MAIL FROM:<briefing@example.org>',
    ]);
  });

  it.each([
    ['AUTH PLAIN', ''],
    ['AUTH LOGIN', '?authMethod=login'],
  ])('keeps the credentials out of the error when a refusing server echoes what %s sent (password leak)', async (_label, query) => {
    const user = 'qwu8x';
    const pass = 'Zq7xK9w-secret';
    const port = await listen((socket) => {
      socket.write('220 echo.example ESMTP\r\n');
      let said = '';
      readLines(socket, (line) => {
        said = `${said} ${line}`;
        if (/^EHLO /i.test(line)) socket.write('250-echo.example\r\n250 AUTH PLAIN LOGIN\r\n');
        else if (/^AUTH LOGIN$/i.test(line) || (/^[A-Za-z0-9+/=]+$/.test(line) && !said.includes(Buffer.from(pass).toString('base64')))) socket.write('334 go on\r\n');
        else socket.write(`535 5.7.8 refused:${said}\r\n`);
      });
    });
    transport = createSmtpTransport(parseSmtpUrl(`smtp://${user}:${pass}@127.0.0.1:${port}${query}`), { maxConnections: 1, timeoutMs: 5000, logger });
    const error = await failure(transport.send(message()));
    expect(error).toMatchObject({ fatal: true, responseCode: 535 });
    const shown = `${error.message} ${String(error.cause)}`;
    expect(shown).toMatch(/535 5\.7\.8 refused:.*\[redacted\]/);
    const secrets = [pass, Buffer.from(pass).toString('base64'), Buffer.from(`\0${user}\0${pass}`).toString('base64')];
    for (const secret of secrets) expect(shown).not.toContain(secret.slice(0, 12));
  });
});
