import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DkimSigner } from '../delivery/dkim.js';
import { createToken, tokenSubscriberId, verifyToken } from '../delivery/tokens.js';
import type { Transport } from '../delivery/transport.js';
import { createBackgroundTasks } from './background-tasks.js';
import { buildConfirmationMessage } from './confirmation-email.js';
import { DEFAULT_LIMITS, type LinkTokens, type ServerDependencies, type ServerLimits, type ServerStore } from './dependencies.js';
import { loadPages } from './pages.js';
import { waitingStore } from './waiting-store.js';

const HOUR_MS = 3_600_000;

/**
 * Builds what the routes need from the real parts (config, store, transport): the pages from
 * templates/web/, signed links under BRIEFING_SECRET, the confirmation email sender, and the store
 * behind a bounded wait for other writers.
 */
export function buildDependencies(parts: {
  config: Config;
  store: ServerStore;
  transport: Transport;
  /** Signs the confirmation emails when DKIM is configured (built once by the composition root). */
  dkim: DkimSigner | undefined;
  clock: { now(): Date };
  logger: Logger;
  limits?: Partial<ServerLimits>;
}): ServerDependencies {
  const { config, transport, logger } = parts;
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...parts.limits };
  const confirmMs = limits.confirmHours * HOUR_MS;
  const pages = loadPages(config.paths.templates, {
    title: config.title,
    language: config.language,
    direction: config.direction,
    base: new URL(config.siteUrl).pathname,
  });
  const { secret, previousSecret } = config.env;
  // During a rotation, links signed with the previous secret keep working; new ones use the current.
  const secrets = previousSecret === undefined ? [secret] : [secret, previousSecret];
  // Tokens naming no subscriber are checked against a key no token was made with, so they cost the same time.
  const unknownKey = randomBytes(16).toString('base64url');
  const store = waitingStore(parts.store, limits.storeWaitMs);
  const tokens: LinkTokens = {
    confirmToken: (subscriber, now) => createToken(secret, 'confirm', subscriber, new Date(now.getTime() + confirmMs)),
    preferencesToken: (subscriber) => createToken(secret, 'preferences', subscriber),
    async verify(token, purpose, now) {
      const id = tokenSubscriberId(token);
      const subscriber = id === undefined ? undefined : await store.getSubscriber(id);
      const checked = verifyToken(secrets, purpose, token, subscriber?.linkKey ?? unknownKey, now);
      if (!checked.ok || subscriber === undefined) return { ok: false, reason: !checked.ok && checked.reason === 'expired' ? 'expired' : 'invalid' };
      // Confirmation tokens expire a fixed time after they are made, so that is when they were made.
      const issuedAt = checked.expiresAt === null ? null : new Date(checked.expiresAt.getTime() - confirmMs);
      return { ok: true, subscriber, issuedAt };
    },
  };
  const { dkim } = parts;
  return {
    config,
    store,
    tokens,
    clock: parts.clock,
    logger,
    pages,
    tasks: createBackgroundTasks(logger),
    limits,
    async sendConfirmation(recipient, confirmUrl) {
      const text = pages.render('confirmation-email.txt', {
        confirmUrl,
        confirmHours: limits.confirmHours,
        postalAddress: config.postalAddress,
      });
      const message = await buildConfirmationMessage({
        sender: config.sender,
        listId: config.listId,
        timeZone: config.timeZone,
        subject: `Confirm your subscription to ${config.title}`,
        text,
        recipient,
        date: parts.clock.now(),
        dkim,
      });
      const receipt = await transport.send(message);
      logger.info({ messageId: message.messageId, reply: receipt.reply }, 'server: confirmation email sent');
    },
  };
}
