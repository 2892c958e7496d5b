import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { TransportError, type OutgoingMessage, type Transport } from './transport.js';

/** The file a message goes to: `<subscriber id>.eml`, or the Message-ID's left part for a test copy. */
function fileName(message: OutgoingMessage): string {
  if (message.subscriberId !== undefined) return `${message.subscriberId}.eml`;
  const left = message.messageId.slice(1, message.messageId.indexOf('@'));
  return `${left.replace(/[^A-Za-z0-9.-]/g, '-').replace(/^\.+/, '')}.eml`;
}

/**
 * The transport without BRIEFING_SMTP_URL: each message is written whole (temp file + rename, so a
 * reader never sees half a message) to `<folder>/<n>.eml`, ready to open in a mail client. A disk
 * that cannot be written is fatal: the send stops and the deliveries stay queued.
 */
export function createEmlTransport(folder: string): Transport {
  let ready: Promise<unknown> | undefined;
  const shown = path.relative(process.cwd(), folder) || folder;
  const unwritable = (error: unknown): TransportError =>
    new TransportError(`cannot write ${shown}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { temporary: true, fatal: true, cause: error });
  return {
    description: `.eml files in ${shown}/`,
    async send(message) {
      const target = path.join(folder, fileName(message));
      const temporary = path.join(folder, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await (ready ??= mkdir(folder, { recursive: true }));
        await writeFile(temporary, message.raw);
        await rename(temporary, target);
      } catch (error) {
        ready = undefined;
        await rm(temporary, { force: true }).catch(() => undefined);
        throw unwritable(error);
      }
      return { reply: `written to ${path.relative(folder, target)}` };
    },
    async close() {},
  };
}
