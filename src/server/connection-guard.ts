import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { canonicalAddress, clientKey } from './client-address.js';

/** Bounds on the sockets of the HTTP server; defaults suit one public server. */
export interface ConnectionLimits {
  /**
   * A connection must send a complete request head this soon after it opens or after its last
   * response, or it is closed: sockets that never send a byte, slow heads, idle keep-alives.
   */
  headMs: number;
  /** A whole request, head and body, must arrive within this long (Node answers 408). */
  requestMs: number;
  /** A socket with no traffic either way for this long is closed (a reader that stopped reading). */
  idleMs: number;
  /** Open connections per client address (trusted proxies are exempt). */
  perClient: number;
  /** Open connections in all. */
  total: number;
}

/** Five seconds to send a head, fifteen for a request, thirty of silence; 16 connections a client, 512 in all. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { headMs: 5_000, requestMs: 15_000, idleMs: 30_000, perClient: 16, total: 512 };

/** Node's options for the same bounds: it checks its own timeouts every so often, here often enough. */
export function serverTimeouts(limits: ConnectionLimits): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: Math.min(limits.headMs, limits.requestMs),
    requestTimeout: limits.requestMs,
    keepAliveTimeout: limits.headMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headMs / 2))),
  };
}

interface Tracked {
  client: string;
  /** Requests received and not yet answered. */
  inFlight: number;
  /** When its oldest unanswered request arrived (performance.now()); NaN when none is in flight. */
  busySince: number;
  headTimer: NodeJS.Timeout | undefined;
}

/**
 * Keeps `server`'s sockets within `limits`. Node's own header timeout never closes a socket that has
 * sent nothing, so a timer per socket waits for each request head. A new connection past a client's
 * cap, or past the total, closes that client's (or anyone's) oldest connection that has no request
 * in flight. So idle sockets cannot keep anyone out, not even their own client's next real request.
 * Past the total with every connection busy, the one whose request has taken longest goes, if it has
 * taken longer than a head may (`headMs`): every route answers in milliseconds once its request is
 * in, so that is a body trickled a byte at a time to hold the slot; only when none has is the new
 * connection refused. Clients are counted by address, an IPv6 one by its /64 (see clientKey).
 */
export function guardConnections(server: Server, limits: ConnectionLimits, trustedProxies: readonly string[]): void {
  const trusted = new Set(trustedProxies.map(canonicalAddress));
  const open = new Map<Socket, Tracked>(); // in the order they opened
  const perClient = new Map<string, number>();

  const forget = (socket: Socket): void => {
    const tracked = open.get(socket);
    if (tracked === undefined) return;
    clearTimeout(tracked.headTimer);
    open.delete(socket);
    const left = (perClient.get(tracked.client) ?? 1) - 1;
    if (left === 0) perClient.delete(tracked.client);
    else perClient.set(tracked.client, left);
  };
  const closeOldestIdle = (matches: (tracked: Tracked) => boolean): boolean => {
    for (const [socket, tracked] of open) {
      if (tracked.inFlight === 0 && matches(tracked)) {
        forget(socket);
        socket.destroy();
        return true;
      }
    }
    return false;
  };
  const closeLongestBusy = (): boolean => {
    let longest: [Socket, Tracked] | undefined;
    for (const entry of open) {
      if (entry[1].busySince < (longest?.[1].busySince ?? performance.now() - limits.headMs)) longest = entry;
    }
    if (longest === undefined) return false;
    forget(longest[0]);
    longest[0].destroy();
    return true;
  };
  const awaitHead = (socket: Socket, tracked: Tracked): void => {
    clearTimeout(tracked.headTimer);
    tracked.headTimer = setTimeout(() => {
      forget(socket);
      socket.destroy();
    }, limits.headMs);
    tracked.headTimer.unref();
  };

  server.setTimeout(limits.idleMs);
  server.on('connection', (socket: Socket) => {
    const address = canonicalAddress(socket.remoteAddress ?? '');
    const client = clientKey(address);
    const atClientCap = !trusted.has(address) && (perClient.get(client) ?? 0) >= limits.perClient;
    if (atClientCap && !closeOldestIdle((tracked) => tracked.client === client)) {
      socket.destroy();
      return;
    }
    if (open.size >= limits.total && !closeOldestIdle(() => true) && !closeLongestBusy()) {
      socket.destroy();
      return;
    }
    const tracked: Tracked = { client, inFlight: 0, busySince: Number.NaN, headTimer: undefined };
    open.set(socket, tracked);
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
    awaitHead(socket, tracked);
    socket.once('close', () => forget(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    const tracked = open.get(socket);
    if (tracked === undefined) return;
    tracked.inFlight += 1;
    if (tracked.inFlight === 1) tracked.busySince = performance.now();
    clearTimeout(tracked.headTimer);
    response.once('close', () => {
      tracked.inFlight -= 1;
      // A pipelined request behind it began no sooner than now.
      tracked.busySince = tracked.inFlight === 0 ? Number.NaN : performance.now();
      if (tracked.inFlight === 0 && open.has(socket)) awaitHead(socket, tracked);
    });
  });
}
