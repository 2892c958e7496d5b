import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { BriefingError } from '../errors.js';
import { createSmtpTransport } from './smtp-transport.js';
import { parseSmtpUrl } from './smtp-url.js';
import type { Transport } from './transport.js';

/** Where the .eml transport writes an edition's messages: output/outbox/<editionId>/. */
export function outboxFolder(config: Pick<Config, 'paths'>, editionId: string): string {
  // Slot ids of sub-daily schedules carry colons (`2025-07-23T21:00`): fine in a folder name here.
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(editionId) || editionId.includes('..')) {
    throw new BriefingError('delivery', 'invalid-edition-id', `edition id "${editionId.slice(0, 40)}" cannot name a folder`);
  }
  return path.join(config.paths.output, 'outbox', editionId);
}

/**
 * The transport of a run: one SMTP pool from BRIEFING_SMTP_URL (connections = delivery.concurrency
 * unless the URL's maxConnections says otherwise), Briefing's pipelined client or, with
 * BRIEFING_TRANSPORT=nodemailer, nodemailer's (logging in with BRIEFING_SMTP_OAUTH2_TOKEN if set; or its
 * sendmail transport for `sendmail:[/path]`, or its Amazon SES transport for `ses:[REGION]`);
 * without the URL, .eml files under output/outbox/<editionId>/. The description never carries
 * the password or token. Only the chosen transport's modules are loaded (nodemailer is not, for the
 * default client), so a send reaches its first message sooner.
 */
export async function createTransport(config: Pick<Config, 'env' | 'paths' | 'delivery'>, editionId: string, logger: Logger): Promise<Transport> {
  if (config.env.smtpUrl === undefined) return (await import('./eml-transport.js')).createEmlTransport(outboxFolder(config, editionId));
  if (config.env.transport === 'nodemailer' && config.env.smtpUrl.startsWith('sendmail:')) {
    const program = config.env.smtpUrl.slice('sendmail:'.length) || '/usr/sbin/sendmail';
    if (!path.isAbsolute(program)) throw new BriefingError('config', 'invalid-smtp-url', 'BRIEFING_SMTP_URL sendmail: must name an absolute path (sendmail:/usr/sbin/sendmail), or none');
    return (await import('./nodemailer-transport.js')).createSendmailTransport(program);
  }
  if (config.env.transport === 'nodemailer' && config.env.smtpUrl.startsWith('ses:')) {
    const { createSesTransport, parseSesUrl } = await import('./ses-transport.js');
    return createSesTransport(parseSesUrl(config.env.smtpUrl));
  }
  const settings = parseSmtpUrl(config.env.smtpUrl);
  if (config.env.transport === 'nodemailer') {
    return (await import('./nodemailer-transport.js')).createNodemailerTransport(settings, {
      maxConnections: config.delivery.concurrency,
      timeoutMs: config.delivery.timeoutMs,
      oauth2AccessToken: config.env.smtpOAuth2Token,
    });
  }
  return createSmtpTransport(settings, {
    maxConnections: config.delivery.concurrency,
    timeoutMs: config.delivery.timeoutMs,
    logger,
  });
}
