/**
 * What the SMTP server and the store show after a send: messages per Message-ID and per recipient,
 * and every delivery row of an edition.
 */
import type { Delivery, Store } from '../../../src/store/store.js';
import type { SmtpTestServer } from '../../support/smtp-test-server.js';

/** Every delivery of an edition, read in keyset pages as the store gives them. */
export async function allDeliveries(store: Pick<Store, 'listDeliveries'>, editionId: string, status?: Delivery['status']): Promise<Delivery[]> {
  const all: Delivery[] = [];
  for (;;) {
    const after = all[all.length - 1]?.subscriberId;
    const page = await store.listDeliveries({ editionId, limit: 1000, ...(status === undefined ? {} : { status }), ...(after === undefined ? {} : { afterSubscriberId: after }) });
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

/** The subscriber id a Message-ID names (`<edition.subscriber.hash@list>`, the same for every attempt). */
export function subscriberOf(messageId: string): number {
  return Number(/^<[^.]+\.(\d+)\./.exec(messageId)?.[1]);
}

/** How many messages the SMTP server accepted per envelope recipient. */
export function perRecipient(server: SmtpTestServer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of server.messages) for (const to of message.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}

/** Copies beyond the first, summed over a count map. */
export function extraCopies(counts: ReadonlyMap<unknown, number>): number {
  return [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
}
