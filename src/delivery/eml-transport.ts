import path from 'node:path';
import { writeOutputFiles } from '../output/write-output-files.js';
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
  const shown = path.relative(process.cwd(), folder) || folder;
  return {
    description: `.eml files in ${shown}/`,
    async send(message) {
      const name = fileName(message);
      try {
        await writeOutputFiles(folder, new Map([[name, message.raw]]));
      } catch (error) {
        throw new TransportError(`cannot write ${shown}: ${error instanceof Error ? error.message : String(error)}`, { temporary: true, fatal: true, cause: error });
      }
      return { reply: `written to ${name}`, file: path.join(shown, name) };
    },
    async close() {},
  };
}
