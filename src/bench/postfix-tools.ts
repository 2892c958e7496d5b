import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { runChild, expectSuccess } from './measure.js';

/** Where Debian's `postfix` package installs its test tools. */
const SMTP_SINK = '/usr/sbin/smtp-sink';
const SMTP_SOURCE = '/usr/sbin/smtp-source';

/** True when Postfix's smtp-sink and smtp-source are installed (`apt-get install postfix`). */
export function postfixToolsInstalled(): boolean {
  return existsSync(SMTP_SINK) && existsSync(SMTP_SOURCE);
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** How a server's greeting starts and the line that leaves it politely. */
export interface Greeting {
  starts: string;
  goodbye: string;
}

/** An SMTP server greets with 220 and is left with QUIT. */
const SMTP_GREETING: Greeting = { starts: '220', goodbye: 'QUIT' };

/**
 * Resolves once something on 127.0.0.1:port answers with a greeting (SMTP's unless told another,
 * such as IMAP's `* OK`); `gone` says why waiting is pointless (the server process exited), else undefined.
 */
export async function waitForGreeting(
  port: number,
  timeoutMs: number,
  gone: () => string | undefined = () => undefined,
  greeting: Greeting = SMTP_GREETING,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = gone();
    if (why !== undefined) throw new Error(why);
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setTimeout(500);
      socket.once('data', (chunk: Buffer) => {
        socket.end(`${greeting.goodbye}\r\n`);
        resolve(chunk.toString('latin1').startsWith(greeting.starts));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (greeted) return;
    if (Date.now() > deadline) throw new Error(`nothing greeted on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A running smtp-sink: it accepts every message on 127.0.0.1 and throws it away. */
export interface SmtpSink {
  port: number;
  /** `smtp://127.0.0.1:<port>` */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts Postfix's `smtp-sink` on 127.0.0.1 and a free port (it announces PIPELINING, as real MTAs
 * do). As root it must drop privileges (`-u nobody`). Stopped by its process id.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const port = await freePort();
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  // -m: as many simultaneous sessions as any figure opens; backlog 1000.
  const child = spawn(SMTP_SINK, [...user, '-m', '1000', `127.0.0.1:${port}`, '1000'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A bench stopped early (Ctrl-C, SIGTERM) leaves no sink listening.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  try {
    await waitForGreeting(port, 5000, () => (child.exitCode === null ? undefined : `smtp-sink exited with ${child.exitCode} before listening`));
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Postfix's `smtp-source`: `count` messages with `size` bytes of body over `connections` sessions
 * that each stay open for all their messages (`-d`). Its rate is the practical ceiling of the link.
 */
export async function runSmtpSource(port: number, options: { count: number; size: number; connections: number }): Promise<{ ms: number; rate: number }> {
  const args = ['-d', '-s', String(options.connections), '-l', String(options.size), '-m', String(options.count), '-f', 'bench@example.org', '-t', 'reader@example.com', `127.0.0.1:${port}`];
  const result = expectSuccess('smtp-source', await runChild(SMTP_SOURCE, args));
  return { ms: result.ms, rate: (options.count * 1000) / result.ms };
}
