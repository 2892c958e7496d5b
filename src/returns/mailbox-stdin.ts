/**
 * One returned message on standard input, for an MTA that pipes mail to Briefing: a Postfix `pipe`
 * transport (master.cf: `briefing unix - n n - - pipe flags=Rq user=briefing argv=/usr/bin/env
 * briefing inbox --stdin --config /srv/briefing/briefing.config.json`) or a `.forward` line
 * (`"|briefing inbox --stdin"`). The MTA keeps the message until the command exits, and reads the
 * exit code as sysexits(3) says, so `briefing inbox --stdin` exits:
 *   0   done: the message was handled, or kept in the unknown-mail Maildir;
 *   75  EX_TEMPFAIL: the store is busy or unreachable; the MTA keeps the message and retries later;
 *   1   any other error (a message beyond `maxSpoolBytes` among them): the MTA returns the message
 *       to its sender, which for a bounce (null sender) means to the postmaster.
 * Only what arrives here is lost if nothing keeps it, so `unknown` writes it into a Maildir first.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BriefingError } from '../errors.js';
import { deliverToMaildir, onDisk, printablePath } from './maildir-folder.js';
import { mailboxLimits, type Mailbox } from './mailbox.js';

export interface StdinMailboxOptions {
  /** A larger message is yielded `oversized`: only its first bytes are held in memory (default 5 MB). */
  maxBytes?: number;
  /** The Maildir (made if missing) that keeps an unknown message, e.g. `data/unknown-mail`. */
  unknownMaildir: string;
  /** Most bytes written to the unknown Maildir for one oversized message (default 50 MB). */
  maxSpoolBytes?: number;
}

const DEFAULT_MAX_SPOOL_BYTES = 50 * 1024 * 1024;

const asBuffer = (chunk: unknown): Buffer => (Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));

/**
 * The message on `input` as a Mailbox of at most one message (none for an empty stream). At most
 * `maxBytes` (plus one chunk) is read before it is yielded; `settle('unknown')` then writes it,
 * the rest of an oversized one included (streamed, bounded by `maxSpoolBytes`), into
 * `unknownMaildir`; `settle('handled')` does nothing, as nothing else holds the message.
 */
export function stdinMailbox(input: Readable, options: StdinMailboxOptions): Mailbox {
  const { maxBytes } = mailboxLimits({ maxBytes: options.maxBytes });
  const maxSpoolBytes = options.maxSpoolBytes ?? DEFAULT_MAX_SPOOL_BYTES;
  const unknownMaildir = Buffer.from(options.unknownMaildir);
  // Read by hand, never with `for await … break`, which would destroy the stream an oversized
  // message still has to be spooled from.
  const reader = input[Symbol.asyncIterator]();
  let started = false;

  return {
    describe: 'standard input',
    async *messages(signal) {
      if (started) return;
      started = true;
      const head: Buffer[] = [];
      let length = 0;
      let ended = false;
      while (length <= maxBytes) {
        const next = await reader.next();
        if (next.done === true) {
          ended = true;
          break;
        }
        const chunk = asBuffer(next.value);
        head.push(chunk);
        length += chunk.length;
      }
      if (length === 0 || signal?.aborted === true) return;
      let settled = false;
      yield {
        id: 'stdin',
        raw: ended ? Buffer.concat(head, length) : Buffer.alloc(0),
        oversized: !ended,
        async settle(outcome) {
          if (settled || outcome === 'handled') return;
          let spooled = 0;
          const write = async (file: FileHandle, chunk: Buffer): Promise<void> => {
            spooled += chunk.length;
            if (spooled > maxSpoolBytes) {
              throw new BriefingError('returns', 'stdin-too-large', `standard input: the message is larger than ${maxSpoolBytes} bytes and was not kept`);
            }
            await file.writeFile(chunk);
          };
          const spool = async (file: FileHandle): Promise<void> => {
            for (const chunk of head) await write(file, chunk);
            for (let next = ended ? undefined : await reader.next(); next !== undefined && next.done !== true; next = await reader.next()) {
              await write(file, asBuffer(next.value));
            }
          };
          await onDisk('unknown-mail-not-kept', `standard input: cannot keep the message in ${printablePath(unknownMaildir)}`, () => deliverToMaildir(unknownMaildir, spool));
          settled = true;
        },
      };
    },
    async close() {},
  };
}
