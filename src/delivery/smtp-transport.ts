import type { Logger } from 'pino';
import { SmtpConnection, SmtpConnectError, type SmtpConnectionOptions } from './smtp-connection.js';
import type { SmtpSettings } from './smtp-url.js';
import { TransportError, type OutgoingMessage, type SendReceipt, type Transport } from './transport.js';

interface Job {
  message: OutgoingMessage;
  resolve: (receipt: SendReceipt) => void;
  reject: (error: unknown) => void;
}

/** TCP connection failures in a row, with no connection open, after which the server counts as down. */
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
  const idle: SmtpConnection[] = [];
  const open = new Set<SmtpConnection>();
  let workers = 0;
  let everConnected = false;
  let failuresInARow = 0;
  let closed = false;

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
      failuresInARow += error.reachable ? 0 : 1;
      const down = !error.reachable && open.size === 0 && (!everConnected || failuresInARow >= DOWN_AFTER_FAILURES);
      if (down) {
        throw new TransportError(`${error.message} (${settings.description} cannot be reached; the send stops and can resume)`, {
          temporary: true,
          fatal: true,
          cause: error,
        });
      }
      throw error;
    }
  }

  function release(connection: SmtpConnection): void {
    open.delete(connection);
    connection.destroy();
  }

  /** Serves jobs on one connection until the queue is empty; the connection then waits in `idle`. */
  async function work(): Promise<void> {
    let connection = idle.pop();
    let refused = 0;
    while (queue.length > 0) {
      if (connection === undefined || !connection.usable) {
        if (connection) release(connection);
        connection = undefined;
        try {
          connection = await connect();
        } catch (error) {
          // The job that was to use this connection takes the error (to be retried by the sender);
          // the next attempt waits a little longer, so a busy server is not hammered.
          queue.shift()?.reject(error);
          refused += 1;
          await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** refused)));
          continue;
        }
      }
      const job = queue.shift();
      if (!job) break;
      try {
        job.resolve(await connection.send(job.message));
      } catch (error) {
        job.reject(error);
      }
      if (connection.sent >= settings.maxMessages) {
        open.delete(connection);
        await connection.close();
        connection = undefined;
      }
    }
    workers -= 1;
    if (connection?.usable && !closed) idle.push(connection);
    else if (connection) release(connection);
  }

  return {
    description: settings.description,
    ...(settings.messagesPerSecond === undefined ? {} : { messagesPerSecond: settings.messagesPerSecond }),
    send(message) {
      if (closed) return Promise.reject(new TransportError('the SMTP transport is closed', { temporary: true }));
      return new Promise<SendReceipt>((resolve, reject) => {
        queue.push({ message, resolve, reject });
        if (workers < maxConnections) {
          workers += 1;
          void work();
        }
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new TransportError('the SMTP transport closed', { temporary: true }));
      const connections = [...idle.splice(0)];
      await Promise.all(
        connections.map(async (connection) => {
          open.delete(connection);
          await connection.close();
        }),
      );
      for (const connection of open) connection.destroy();
      open.clear();
    },
  };
}
