import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { TokenPurpose, TokenSubject } from '../delivery/tokens.js';
import type { Store, Subscriber } from '../store/store.js';
import type { BackgroundTasks } from './background-tasks.js';
import type { Pages } from './pages.js';
import type { RateLimit } from './rate-limiter.js';

/** Why a signed link was refused. */
export type TokenRefusal = 'expired' | 'invalid';

/** What the server needs from signed links (HMACs over the subscriber id and link key with BRIEFING_SECRET). */
export interface LinkTokens {
  /** A token for the confirmation link of a subscriber, expiring after `confirmHours`. */
  confirmToken(subscriber: TokenSubject, now: Date): string;
  /** A token for the preference page of a subscriber (never expires, like the unsubscribe link of a briefing). */
  preferencesToken(subscriber: TokenSubject): string;
  /** The subscriber a token was signed for (read from the store for its link key) and when, or why it is refused. */
  verify(token: string, purpose: TokenPurpose, now: Date): Promise<{ ok: true; subscriber: Subscriber; issuedAt: Date | null } | { ok: false; reason: TokenRefusal }>;
}

/** Sends the double opt-in message; resolves once the transport accepted it. */
export type SendConfirmation = (recipient: { subscriberId: number; address: string; name: string | null }, confirmUrl: string) => Promise<void>;

/**
 * The store calls the routes make (the server's own view of the store): the composition root wraps
 * the real store so each call waits a bounded time for a busy store (see waiting-store.ts).
 */
export type ServerStore = Pick<Store, 'findSubscriber' | 'addSubscribers' | 'getSubscriber' | 'setSubscriberStatus' | 'setSubscriberPreferences' | 'checkWritable'>;

/** Limits against abuse; defaults suit one public server. */
export interface ServerLimits {
  /** Per client address (or per signed link), shared by subscribe, confirm, unsubscribe and preferences. */
  perClient: RateLimit;
  /** Confirmation emails per address, so the form cannot flood someone's mailbox. */
  perAddress: RateLimit;
  /** Largest request body accepted, in bytes. */
  bodyBytes: number;
  /** How long a confirmation link works. */
  confirmHours: number;
  /** After how long a confirmation email the mail server could not take is tried again: once per entry. */
  confirmRetryMs: readonly number[];
  /** How long a request waits for a store another writer holds before it is answered 503. */
  storeWaitMs: number;
}

/**
 * Ten list requests per client (or per signed link) in a burst, then one every six seconds; two
 * confirmation emails per address per quarter hour, one the mail server could not take tried again
 * after a minute, five and fifteen; a second and a half of waiting for a busy store.
 */
export const DEFAULT_LIMITS: ServerLimits = {
  perClient: { burst: 10, perSecond: 1 / 6 },
  perAddress: { burst: 2, perSecond: 1 / 900 },
  bodyBytes: 8 * 1024,
  confirmHours: 48,
  confirmRetryMs: [60_000, 5 * 60_000, 15 * 60_000],
  storeWaitMs: 1_500,
};

/** Everything the routes use: real parts are built by `briefing serve` (or a test). */
export interface ServerDependencies {
  config: Config;
  store: ServerStore;
  tokens: LinkTokens;
  sendConfirmation: SendConfirmation;
  clock: { now(): Date };
  logger: Logger;
  pages: Pages;
  tasks: BackgroundTasks;
  limits: ServerLimits;
}
