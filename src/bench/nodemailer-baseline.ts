import nodemailer from 'nodemailer';
import type { Briefing } from '../email/briefing.js';
import { preparePersonalisation } from '../email/personalise.js';
import { subscriberLinks } from '../delivery/tokens.js';
import { BENCH_LINK_KEY } from './bench-publication.js';

/** The publication facts the baseline's messages carry, as Briefing's own do. */
export interface BaselinePublication {
  sender: { name: string; address: string; unsubscribeAddress?: string | undefined };
  listId: string;
  title: string;
  siteUrl: string;
  secret: string;
}

/**
 * The way the baseline sends: a pooled nodemailer transport and one `sendMail` with the
 * complete message per subscriber (nodemailer builds the whole MIME tree each time), with the same
 * personal values as Briefing's (To, unsubscribe token and headers, Message-ID) and `inFlight`
 * messages handed to the pool at once. Returns the rate in messages per second.
 */
export async function sendWithNodemailer(
  url: string,
  briefing: Briefing,
  publication: BaselinePublication,
  options: { count: number; connections: number; inFlight: number },
): Promise<{ ms: number; rate: number; sent: number }> {
  const transport = nodemailer.createTransport({ url, pool: true, maxConnections: options.connections, maxMessages: Number.POSITIVE_INFINITY });
  const personalise = preparePersonalisation(briefing);
  const mailto = publication.sender.unsubscribeAddress === undefined ? '' : `, <mailto:${publication.sender.unsubscribeAddress}?subject=unsubscribe>`;
  let next = 1;
  let sent = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next <= options.count) {
      const id = next;
      next += 1;
      const address = `reader${id}@example.com`;
      const name = id % 3 === 0 ? `Reader ${id}` : null;
      const links = subscriberLinks(publication.siteUrl, publication.secret, { id, linkKey: BENCH_LINK_KEY });
      const bodies = personalise({ address, name, ...links });
      await transport.sendMail({
        from: { name: publication.sender.name, address: publication.sender.address },
        to: name === null ? address : { name, address },
        subject: briefing.subject,
        text: bodies.text,
        html: bodies.html,
        messageId: `<${briefing.editionId}.${id}@${publication.listId}>`,
        headers: {
          'List-Id': `${publication.title} <${publication.listId}>`,
          'List-Unsubscribe': `<${links.unsubscribeUrl}>${mailto}`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      });
      sent += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.inFlight }, worker));
  } finally {
    transport.close();
  }
  const ms = performance.now() - start;
  return { ms, rate: (sent * 1000) / ms, sent };
}
