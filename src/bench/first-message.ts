import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { SMTPServer } from 'smtp-server';
import { tokenSubscriberId } from '../delivery/tokens.js';
import type { BenchPublication } from './bench-publication.js';

/** What the receiving server saw of a `briefing send` that was stopped after its first messages. */
export interface FirstMessageResult {
  /** Spawn of `briefing send` to the end of the first message's data, in milliseconds. */
  firstMessageMs: number;
  received: number;
  /** Every received message had its own To, unsubscribe token (valid for that reader) and Message-ID. */
  personalised: boolean;
  /** Why a message did not look personalised, when one did not. */
  problem: string | undefined;
}

function headerOf(head: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:[ \\t]*((?:.*)(?:\\r\\n[ \\t].*)*)`, 'im').exec(head);
  return match?.[1]?.replace(/\r\n[ \t]/g, ' ').trim();
}

/**
 * Starts `briefing send` against an in-process SMTP server on 127.0.0.1 (the `smtp-server`
 * package) and times spawn → first message accepted; after `stopAfter` messages it asks the send to
 * stop (SIGTERM, the graceful path) and checks each received message was made for its reader.
 */
export async function timeFirstMessage(
  publication: BenchPublication,
  options: { edition: string; secret: string; stopAfter: number },
): Promise<FirstMessageResult> {
  const messageIds = new Set<string>();
  const tokens = new Set<string>();
  let problem: string | undefined;
  let received = 0;
  let firstAt: number | undefined;
  let child: ChildProcess | undefined;
  const check = (raw: Buffer, recipient: string): string | undefined => {
    const head = raw.subarray(0, Math.max(0, raw.indexOf('\r\n\r\n'))).toString('utf8');
    const to = headerOf(head, 'To');
    const messageId = headerOf(head, 'Message-ID');
    const token = /[?&]token=([^>&\s]+)>/.exec(headerOf(head, 'List-Unsubscribe') ?? '')?.[1];
    if (to === undefined || !to.toLowerCase().includes(recipient.toLowerCase())) return `To "${to}" is not the recipient ${recipient}`;
    if (messageId === undefined || messageIds.has(messageId)) return `Message-ID ${messageId} is missing or repeated`;
    messageIds.add(messageId);
    if (token === undefined || tokens.has(token)) return 'the unsubscribe token is missing or repeated';
    tokens.add(token);
    // The MAC needs the subscriber's link key from the store; the id is what tells tokens apart.
    const reader = /^reader(\d+)@/.exec(recipient)?.[1];
    if (String(tokenSubscriberId(token)) !== reader) return `the unsubscribe token of ${recipient} does not name that reader`;
    return undefined;
  };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    hideSTARTTLS: true,
    authOptional: true,
    disabledCommands: ['AUTH'],
    closeTimeout: 100,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        firstAt ??= performance.now();
        received += 1;
        problem ??= check(Buffer.concat(chunks), session.envelope.rcptTo[0]?.address ?? '');
        if (received === options.stopAfter) child?.kill('SIGTERM');
        callback(null, 'Ok');
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  let start = 0;
  // A send that never gets going is stopped rather than waited for.
  const kill = setTimeout(() => child?.kill('SIGKILL'), 120_000);
  try {
    start = performance.now();
    const result = await publication.run(['send', '--date', options.edition, '--json'], { BRIEFING_SMTP_URL: `smtp://127.0.0.1:${port}`, BRIEFING_SECRET: options.secret }, {
      onStart: (spawned) => (child = spawned),
    });
    if (firstAt === undefined) throw new Error(`briefing send delivered nothing (exit ${result.code ?? result.signal}): ${result.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}`);
  } finally {
    clearTimeout(kill);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { firstMessageMs: (firstAt ?? start) - start, received, personalised: problem === undefined && received > 0, problem };
}
