import type { Logger } from 'pino';
import { SmtpConnection, SmtpConnectError, SmtpNoReplyError, type SmtpConnectionOptions } from './smtp-connection.js';
import type { SmtpSettings } from './smtp-url.js';
import { TransportError, type OutgoingMessage, type SendReceipt, type Transport } from './transport.js';

interface Job {
  message: OutgoingMessage;
  resolve: (receipt: SendReceipt) => void;
  reject: (error: unknown) => void;
}

/** Connection failures in a row (refused, or no greeting), with no connection open, after which the server counts as down. */
const DOWN_AFTER_FAILURES = 3;

/**
 * A pool of up to `maxConnections` kept-open SMTP connections (the issue-8 hot path): each message
 * goes to the next free connection, a broken connection is replaced, and a server that cannot be
 * reached at all (or refuses our login or TLS) rejects with a fatal TransportError so the sender
 * stops instead of failing every delivery.
 */
export function createSmtpTransport(settings: SmtpSettings, options: { maxConnections: number; timeoutMs: number; logger: Logger }): Transport {
  const connectionOptions: SmtpConnectionOptions = {
    host: settings.host,
    port: settings.port,
    tls: settings.tls,
    rejectUnauthorized: settings.rejectUnauthorized,
    servername: settings.servername,
    auth: settings.auth,
    allowPlaintextAuth: settings.allowPlaintextAuth,
    clientName: settings.clientName,
    timeoutMs: settings.socketTimeoutMs ?? options.timeoutMs,
    connectionTimeoutMs: settings.connectionTimeoutMs ?? Math.min(options.timeoutMs, 30_000),
    greetingTimeoutMs: settings.greetingTimeoutMs ?? Math.min(options.timeoutMs, 30_000),
  };
  const maxConnections = settings.maxConnections ?? options.maxConnections;
  const logger = options.logger.child({ smtp: settings.description });
  const queue: Job[] = [];
  /** Workers with a connection and nothing to do, waiting for the next job. */
  const waiting: Array<() => void> = [];
  const running = new Set<Promise<void>>();
  const open = new Set<SmtpConnection>();
  const closing = new Set<Promise<void>>();
  let everConnected = false;
  let failuresInARow = 0;
  let closed = false;
  /** Whether the server ever replied to a message (accepting or refusing it), and when it last did. */
  let everAnswered = false;
  let lastReplyAt = 0;
  /** Set once the server counts as having stopped answering: every later silence is this fatal error. */
  let stoppedAnswering: TransportError | undefined;

  async function connect(): Promise<SmtpConnection> {
    try {
      const connection = await SmtpConnection.open(connectionOptions);
      everConnected = true;
      failuresInARow = 0;
      open.add(connection);
      logger.debug({ connections: open.size }, 'smtp connection opened');
      return connection;
    } catch (error) {
      if (!(error instanceof SmtpConnectError)) throw error;
      // A greeting or EHLO that never came fails like a refused connection: a server that greets some
      // connections and not others (at its limit of sessions) is not down while those others work.
      const silent = error.cause instanceof SmtpNoReplyError;
      failuresInARow += error.reachable && !silent ? 0 : 1;
      const down = (!error.reachable || silent) && open.size === 0 && (!everConnected || failuresInARow >= DOWN_AFTER_FAILURES);
      if (down) throw serverDown(error, silent ? 'stopped answering' : 'cannot be reached');
      throw error;
    }
  }

  /** The fatal error of a server that cannot work now: the sender stops, what is undelivered stays queued. */
  function serverDown(error: TransportError, why: 'cannot be reached' | 'stopped answering'): TransportError {
    return new TransportError(`${error.message} (${settings.description} ${why}; the send stops and can resume)`, { temporary: true, fatal: true, notTaken: error.notTaken, cause: error });
  }

  /**
   * A message's outcome, with the server's silence judged across connections: a connection that
   * stops answering while others get replies is retried elsewhere, but a server that has answered no
   * message at all, or none on any connection for a whole timeout, stops the send, its messages still
   * queued, rather than failing each of them once its attempts run out.
   */
  function judged(accepted: Promise<SendReceipt>): Promise<SendReceipt> {
    return accepted.then(replied, refused);
  }

  function answered(): void {
    everAnswered = true;
    lastReplyAt = performance.now();
  }

  function replied(receipt: SendReceipt): SendReceipt {
    answered();
    return receipt;
  }

  function refused(error: unknown): never {
    if (!(error instanceof SmtpNoReplyError)) {
      if (error instanceof TransportError && error.responseCode !== null) answered();
      throw error;
    }
    if (stoppedAnswering === undefined && (!everAnswered || performance.now() - lastReplyAt >= connectionOptions.timeoutMs)) {
      stoppedAnswering = serverDown(error, 'stopped answering');
      logger.warn('smtp server stopped answering');
    }
    throw stoppedAnswering ?? error;
  }

  function retire(connection: SmtpConnection, last: Promise<unknown>): void {
    open.delete(connection);
    // QUIT only after the last message's reply, which may still be on its way.
    const done = last
      .catch(() => undefined)
      .then(() => connection.close())
      .finally(() => closing.delete(done));
    closing.add(done);
  }

  function nextJob(): Promise<Job | undefined> {
    const job = queue.shift();
    if (job !== undefined || closed) return Promise.resolve(job);
    return new Promise((resolve) => waiting.push(() => resolve(queue.shift())));
  }

  /**
   * One connection's worker: takes the next job as soon as the previous message's data is written
   * (so it pipelines behind that message's final reply), replaces a broken connection, and waits
   * with its connection open while there is nothing to send. With `ahead`, it opens its connection
   * before the first job; a failure then is left for that job's own attempt to meet and report.
   */
  async function work(ahead = false): Promise<void> {
    let connection: SmtpConnection | undefined;
    if (ahead) connection = await connect().catch(() => undefined);
    let last: Promise<unknown> = Promise.resolve();
    let started = 0;
    let refused = 0;
    for (let job = await nextJob(); job !== undefined; job = await nextJob()) {
      if (connection === undefined || !connection.usable) {
        if (connection) retire(connection, last);
        connection = undefined;
        try {
          connection = await connect();
          started = 0;
          refused = 0;
        } catch (error) {
          // This job takes the error (the sender retries it); the next attempt waits a little
          // longer, so a busy server is not hammered.
          job.reject(error);
          refused += 1;
          await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** refused)));
          continue;
        }
      }
      const { written, accepted } = connection.start(job.message);
      judged(accepted).then(job.resolve, job.reject);
      last = accepted;
      started += 1;
      await written;
      if (started >= settings.maxMessages) {
        retire(connection, last);
        connection = undefined;
      }
    }
    if (connection) retire(connection, last);
  }

  function startWorker(ahead: boolean): void {
    const worker = work(ahead).finally(() => running.delete(worker));
    running.add(worker);
  }

  return {
    description: settings.description,
    ...(settings.messagesPerSecond === undefined ? {} : { messagesPerSecond: settings.messagesPerSecond }),
    // One message per connection awaiting its final reply, one pipelined behind it (a server without
    // PIPELINING gets them one after the other: the second waits here).
    messagesInFlight: 2 * maxConnections,
    connectAhead() {
      while (!closed && running.size < maxConnections) startWorker(true);
    },
    send(message) {
      if (closed) return Promise.reject(new TransportError('the SMTP transport is closed', { temporary: true }));
      return new Promise<SendReceipt>((resolve, reject) => {
        queue.push({ message, resolve, reject });
        const wake = waiting.shift();
        if (wake) {
          wake();
        } else if (running.size < maxConnections) {
          startWorker(false);
        }
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new TransportError('the SMTP transport closed', { temporary: true }));
      for (const wake of waiting.splice(0)) wake();
      await Promise.all(running);
      await Promise.all(closing);
      for (const connection of open) connection.destroy();
      open.clear();
    },
  };
}
