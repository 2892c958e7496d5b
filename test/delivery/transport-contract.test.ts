import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createEmlTransport } from '../../src/delivery/eml-transport.js';
import { createNodemailerTransport, createSendmailTransport } from '../../src/delivery/nodemailer-transport.js';
import { createSesTransport, parseSesUrl } from '../../src/delivery/ses-transport.js';
import { createSmtpTransport } from '../../src/delivery/smtp-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import { startSesTestEndpoint } from '../support/ses-test-endpoint.js';
import { startSmtpTestServer } from '../support/smtp-test-server.js';
import { describeTransportContract } from './transport-contract.js';

const logger = pino({ level: 'silent' });

/** A port on 127.0.0.1 that nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describeTransportContract('SMTP pool', {
  async open() {
    const secret = 'p4ss-w0rd-in-the-url';
    const server = await startSmtpTestServer({ keepRaw: true, auth: { user: 'briefing', pass: secret } });
    const transport = createSmtpTransport(parseSmtpUrl(`smtp://briefing:${secret}@127.0.0.1:${server.port}`), { maxConnections: 4, timeoutMs: 5000, logger });
    return {
      transport,
      secret,
      arrived: async () => server.messages.map((received) => received.raw),
      async close() {
        await transport.close();
        await server.close();
      },
    };
  },
  async openBroken() {
    const transport = createSmtpTransport(parseSmtpUrl(`smtp://127.0.0.1:${await closedPort()}`), { maxConnections: 2, timeoutMs: 2000, logger });
    return { transport, close: () => transport.close() };
  },
});

describeTransportContract('nodemailer SMTP pool (BRIEFING_TRANSPORT=nodemailer)', {
  async open() {
    const secret = 'n0dem4iler-p4ss-in-the-url';
    const server = await startSmtpTestServer({ keepRaw: true, auth: { user: 'briefing', pass: secret } });
    const transport = createNodemailerTransport(parseSmtpUrl(`smtp://briefing:${secret}@127.0.0.1:${server.port}`), { maxConnections: 4, timeoutMs: 5000 });
    return {
      transport,
      secret,
      arrived: async () => server.messages.map((received) => received.raw),
      async close() {
        await transport.close();
        await server.close();
      },
    };
  },
  async openBroken() {
    const transport = createNodemailerTransport(parseSmtpUrl(`smtp://127.0.0.1:${await closedPort()}`), { maxConnections: 2, timeoutMs: 2000 });
    return { transport, close: () => transport.close() };
  },
});

describeTransportContract('nodemailer sendmail (BRIEFING_SMTP_URL=sendmail:PATH)', {
  async open() {
    const root = mkdtempSync(path.join(tmpdir(), 'briefing-sendmail-'));
    const queue = path.join(root, 'queue');
    mkdirSync(queue);
    // A mail program with sendmail's interface (-i -f FROM TO… and the message on stdin) that queues
    // each message as a file, as a local MTA would before it sends it on.
    const program = path.join(root, 'sendmail');
    writeFileSync(program, `#!/bin/sh\nexec cat > '${queue}'/$$.eml\n`);
    chmodSync(program, 0o755);
    const transport = createSendmailTransport(program);
    return {
      transport,
      secret: 'no-secret-reaches-sendmail',
      arrived: async () => readdirSync(queue).map((name) => readFileSync(path.join(queue, name))),
      async close() {
        await transport.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
  async openBroken() {
    const transport = createSendmailTransport('/nonexistent/briefing-test/sendmail');
    return { transport, close: () => transport.close() };
  },
});

// The AWS SDK finds its credentials in the environment, as it would on an operator's machine.
const SES_SECRET = 'aws-secret-access-key-of-the-test';
process.env.AWS_ACCESS_KEY_ID = 'AKIDBRIEFINGTEST';
process.env.AWS_SECRET_ACCESS_KEY = SES_SECRET;

describeTransportContract('nodemailer SES (BRIEFING_SMTP_URL=ses:REGION)', {
  async open() {
    const endpoint = await startSesTestEndpoint();
    const transport = createSesTransport(parseSesUrl(`ses:eu-west-1?endpoint=${encodeURIComponent(endpoint.url)}`));
    return {
      transport,
      secret: SES_SECRET,
      arrived: async () => endpoint.requests.map((request) => request.raw),
      async close() {
        await transport.close();
        await endpoint.close();
      },
    };
  },
  async openBroken() {
    const transport = createSesTransport(parseSesUrl(`ses:eu-west-1?endpoint=${encodeURIComponent(`http://127.0.0.1:${await closedPort()}`)}`));
    return { transport, close: () => transport.close() };
  },
});

describeTransportContract('.eml files', {
  async open() {
    const root = mkdtempSync(path.join(tmpdir(), 'briefing-eml-'));
    const folder = path.join(root, 'outbox', '2025-07-24');
    const transport = createEmlTransport(folder);
    return {
      transport,
      secret: 'no-secret-reaches-the-eml-transport',
      arrived: async () => readdirSync(folder).map((name) => readFileSync(path.join(folder, name))),
      async close() {
        await transport.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
  async openBroken() {
    const root = mkdtempSync(path.join(tmpdir(), 'briefing-eml-'));
    // A folder under a regular file can never be created, whoever runs the test (root included).
    writeFileSync(path.join(root, 'output'), 'not a folder');
    const transport = createEmlTransport(path.join(root, 'output', 'outbox', '2025-07-24'));
    return {
      transport,
      async close() {
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
});
