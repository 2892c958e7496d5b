import { RETURNS_DEFAULTS, type Config } from '../config.js';
import type { Mailbox, ReturnedMessage } from '../returns/mailbox.js';
import { readReturnedMail, type ReturnedMail } from '../returns/read-returned-mail.js';
import { readReturnAddress, verifyReturnAddress } from '../returns/return-address.js';
import type { ReturnKind, ReturnResult, Store } from '../store/store.js';
import type { RunContext } from './run-context.js';

/** What became of one returned message. */
export type InboxOutcome =
  | { kind: 'recorded'; returned: ReturnKind; subscriberId: number; result: ReturnResult }
  | { kind: 'unknown'; why: string };

/** What `briefing inbox` did with the messages it read. */
export interface InboxReport {
  read: number;
  /** Recorded against a subscriber, by kind of returned mail. */
  recorded: Record<ReturnKind, number>;
  /** Of those, how many changed the subscriber's status (bounced, unsubscribed). */
  changed: number;
  /** Reports seen before (the same message again): recorded once only. */
  repeats: number;
  /** Left in the mailbox's unknown folder for a person. */
  unknown: number;
}

/** Told about each message as it is settled. */
export interface InboxEvents {
  settled?(message: Pick<ReturnedMessage, 'id'>, outcome: InboxOutcome): void;
}

/** The returned-mail settings, defaults filled in when the configuration has no `returns`. */
export function returnSettings(config: Pick<Config, 'returns'>): { softBounces: number; windowMs: number; maxMessageBytes: number } {
  const returns = config.returns ?? RETURNS_DEFAULTS;
  return {
    softBounces: returns.softBounces,
    windowMs: returns.softBounceWindowDays * 86_400_000,
    maxMessageBytes: returns.maxMessageBytes,
  };
}

/** What makes a return address ours: the secrets that signed it, and the configured return domain. */
interface Trust {
  secrets: readonly string[];
  domain: string | undefined;
}

/** Which of our return addresses may vouch for each kind: bounces come back to the envelope sender, unsubscribe mail to the mailto. */
const VOUCHERS: Record<ReturnKind, ReadonlyArray<'bounce' | 'unsubscribe'>> = {
  'hard-bounce': ['bounce'],
  'soft-bounce': ['bounce'],
  // A complaint quotes the original message: its Return-Path and its List-Unsubscribe both name the delivery.
  complaint: ['bounce', 'unsubscribe'],
  unsubscribe: ['unsubscribe'],
};

/**
 * The subscriber (and edition) a returned mail names: the first of its return addresses that is one
 * of ours for this kind of mail and whose signature verifies with that subscriber's link key. The
 * From line is never asked: anyone can write it.
 */
async function identify(
  store: Pick<Store, 'getSubscriber'>,
  trust: Trust,
  mail: ReturnedMail & { kind: ReturnKind },
): Promise<{ subscriberId: number; editionId: string | null } | undefined> {
  for (const address of mail.returnAddresses) {
    const parsed = readReturnAddress(address);
    if (parsed === undefined || !VOUCHERS[mail.kind].includes(parsed.kind)) continue;
    if (trust.domain !== undefined && parsed.domain !== trust.domain) continue;
    const subscriber = await store.getSubscriber(parsed.subscriberId);
    if (subscriber !== undefined && verifyReturnAddress(trust.secrets, parsed, subscriber.linkKey)) {
      return { subscriberId: subscriber.id, editionId: parsed.editionId };
    }
  }
  return undefined;
}

/**
 * `briefing inbox`: reads each unsettled message of the mailbox, classifies it (DSN, ARF complaint,
 * mailto unsubscribe), finds the delivery it names by our signed return address, and records it
 * once in the store (which applies the bounce and complaint rules). Recorded mail is settled
 * `handled`; anything else `unknown` and kept. A store that cannot write stops the run before the
 * message is settled, so the message is read again next time.
 */
export async function readInbox(context: RunContext, mailbox: Mailbox, events: InboxEvents = {}): Promise<InboxReport> {
  const config = context.config();
  const settings = returnSettings(config);
  const trust: Trust = {
    secrets: [config.env.secret, ...(config.env.previousSecret === undefined ? [] : [config.env.previousSecret])],
    domain: config.returns?.domain,
  };
  const report: InboxReport = { read: 0, recorded: { 'hard-bounce': 0, 'soft-bounce': 0, complaint: 0, unsubscribe: 0 }, changed: 0, repeats: 0, unknown: 0 };
  const store = await context.openStore();
  try {
    for await (const message of mailbox.messages(context.stopSignal)) {
      report.read += 1;
      const outcome = await settleOne(store, trust, settings, message, context.clock.now());
      if (outcome.kind === 'unknown') report.unknown += 1;
      else if (!outcome.result.recorded && outcome.result.reason === 'repeat') report.repeats += 1;
      else {
        report.recorded[outcome.returned] += 1;
        if (outcome.result.recorded && outcome.result.changed) report.changed += 1;
      }
      events.settled?.(message, outcome);
    }
  } finally {
    await store.close();
  }
  return report;
}

async function settleOne(
  store: Pick<Store, 'getSubscriber' | 'recordReturn'>,
  trust: Trust,
  settings: ReturnType<typeof returnSettings>,
  message: ReturnedMessage,
  now: Date,
): Promise<InboxOutcome> {
  const unknown = async (why: string): Promise<InboxOutcome> => {
    await message.settle('unknown');
    return { kind: 'unknown', why };
  };
  if (message.oversized) return unknown(`larger than returns.maxMessageBytes (${settings.maxMessageBytes} bytes): not read`);
  const mail = await readReturnedMail(message.raw, { maxBytes: settings.maxMessageBytes });
  if (mail.kind === 'unknown') return unknown(mail.why);
  const returned = mail.kind;
  const named = await identify(store, trust, { ...mail, kind: returned });
  if (named === undefined) return unknown(`a ${returned} without a return address of ours that verifies`);
  const detail = mail.status === null || mail.detail.includes(mail.status) ? mail.detail : `${mail.status} ${mail.detail}`;
  const result = await store.recordReturn({ key: mail.key, subscriberId: named.subscriberId, editionId: named.editionId, kind: returned, detail }, settings, now);
  // A report about an address no longer on the list has nothing left to change: it is done with too.
  await message.settle('handled');
  return { kind: 'recorded', returned, subscriberId: named.subscriberId, result };
}
