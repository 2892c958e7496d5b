import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, RequestError } from '@hono/node-server';
import type { Hono } from 'hono';
import { BriefingError } from '../errors.js';
import { DEFAULT_CONNECTION_LIMITS, guardConnections, serverTimeouts, type ConnectionLimits } from './connection-guard.js';
import { addSecurityHeaders } from './security-headers.js';

/** The answer to a request the app never sees: the given page, or a bare 400 should it fail to render (an edited template). */
function badRequest(page: (() => Response) | undefined): Response {
  try {
    return page?.() ?? new Response(null, { status: 400 });
  } catch {
    return new Response(null, { status: 400 });
  }
}

/** A server on a socket, and how to stop it. */
export interface RunningServer {
  /** `http://host:port/` as bound (the real port when 0 was asked for). */
  url: string;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then drops what is left. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Puts the app on `host:port`. Idle, slow or stalled clients are cut off by head, request and idle
 * timeouts, and connections are capped per client and in all (see connection-guard.ts); a trusted
 * reverse proxy, which carries many readers, is not capped as one client.
 */
export async function listen(
  app: Hono,
  options: {
    port: number;
    host: string;
    connections?: Partial<ConnectionLimits>;
    trustedProxies?: readonly string[];
    /** The answer to a request the app never sees: no Host header, a host or path that makes no URL. */
    badRequest?: () => Response;
  },
): Promise<RunningServer> {
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections };
  const requests = getRequestListener(app.fetch, {
    errorHandler: (error) => {
      const response = error instanceof RequestError ? badRequest(options.badRequest) : new Response(null, { status: 500 });
      addSecurityHeaders(response.headers);
      return response;
    },
  });
  // Node would answer an HTTP/1.1 request without Host itself, bare; the adapter refuses it (and
  // HTTP/1.0 without Host) as a request error, answered above like every other response.
  const server = createServer({ ...serverTimeouts(limits), requireHostHeader: false }, requests);
  guardConnections(server, limits, options.trustedProxies ?? []);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new BriefingError('server', 'listen-failed', `cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`, { cause: error })),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
