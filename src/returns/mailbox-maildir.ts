/**
 * Returned mail from a Maildir the MTA delivers into (Postfix `home_mailbox = Maildir/`, Dovecot's
 * LDA, procmail, fetchmail). Unsettled messages are those in new/ and cur/ of the Maildir itself;
 * settling moves them into its Maildir++ folders, where Dovecot shows them as IMAP folders.
 * The Maildir is hostile ground: symlinks are never followed, FIFOs and devices never opened,
 * a file larger than `maxBytes` never read, and file names are kept as bytes.
 */
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { BriefingError } from '../errors.js';
import { directoryEntries, ensureMaildirFolder, maildirPath, moveIntoFolder, notADirectory, onDisk, printablePath } from './maildir-folder.js';
import { mailboxLimits, settlementFolders, type Mailbox, type MailboxLimits, type MailboxOptions, type ReturnedMessage } from './mailbox.js';

/** Maildir's info separator: `unique:2,FLAGS`. */
const INFO = Buffer.from(':2,');

/** A file's unique part and its flags (`1700000000.M1P2.host:2,RS` -> base, `RS`). */
function splitName(name: Buffer): { base: Buffer; flags: string } {
  const at = name.lastIndexOf(INFO);
  return at < 0 ? { base: name, flags: '' } : { base: name.subarray(0, at), flags: name.subarray(at + INFO.length).toString('latin1') };
}

/** Flags plus Seen, in ASCII order as Maildir requires. */
function withSeen(flags: string): string {
  return [...new Set([...flags, 'S'])].sort().join('');
}

/**
 * Reads a regular file of at most `maxBytes` without following a symlink or blocking on a FIFO.
 * `undefined` when it is not a regular file or is gone; `oversized` when it is (or grew) too large.
 */
async function readBounded(file: Buffer, maxBytes: number): Promise<{ raw: Buffer; oversized: boolean } | undefined> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ELOOP: the name was swapped for a symlink after it was listed.
    if (code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return undefined;
    if (stat.size > maxBytes) return { raw: Buffer.alloc(0), oversized: true };
    // One byte more than allowed tells a file that grew since fstat.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) return { raw: Buffer.alloc(0), oversized: true };
      if (length === buffer.length) break;
    }
    return { raw: buffer.subarray(0, length), oversized: false };
  } finally {
    await handle.close();
  }
}

function maildirMailbox(root: Buffer, limits: MailboxLimits): Mailbox {
  const describe = `maildir:${printablePath(root)}`;
  const folder = settlementFolders(limits, (segments) => ensureMaildirFolder(root, segments));

  const message = (sub: 'new' | 'cur', name: Buffer, read: { raw: Buffer; oversized: boolean }): ReturnedMessage => {
    const file = maildirPath(root, sub, name);
    const { base, flags } = splitName(name);
    let settled = false;
    return {
      id: `${sub}/${printablePath(name)}`,
      ...read,
      async settle(outcome) {
        if (settled) return;
        // Handled mail is marked seen in cur/; unknown mail keeps its place and flags for a person.
        const folderName = outcome === 'handled' ? limits.handledFolder : limits.unknownFolder;
        await onDisk('maildir-move-failed', `${describe}: cannot move ${sub}/${printablePath(name)} to .${folderName.join('.')}`, async () => {
          const target = maildirPath(await folder(outcome), outcome === 'handled' ? 'cur' : sub);
          const info = outcome === 'handled' ? `:2,${withSeen(flags)}` : sub === 'cur' && name.includes(INFO) ? `:2,${flags}` : '';
          await moveIntoFolder(file, target, base, info);
        });
        settled = true;
      },
    };
  };

  return {
    describe,
    async *messages(signal) {
      // A message a mail reader moves from new/ to cur/ during the walk is yielded once.
      const seen = new Set<string>();
      for (const sub of ['new', 'cur'] as const) {
        for await (const entry of directoryEntries(maildirPath(root, sub))) {
          if (signal?.aborted === true) return;
          // Symlinks, FIFOs and folders are skipped unopened; dot files are not messages (Maildir rule).
          if (!entry.isFile() || entry.name[0] === 0x2e) continue;
          const key = splitName(entry.name).base.toString('latin1');
          if (seen.has(key)) continue;
          seen.add(key);
          const read = await onDisk('maildir-read-failed', `${describe}: cannot read ${sub}/${printablePath(entry.name)}`, () =>
            readBounded(maildirPath(root, sub, entry.name), limits.maxBytes),
          );
          if (read !== undefined) yield message(sub, entry.name, read);
        }
      }
    },
    async close() {},
  };
}

/**
 * Opens the Maildir `dir` (its new/ and cur/ must be real directories, not symlinks) as a Mailbox;
 * handled and unknown messages move into its Maildir++ folders (`.Briefing.Handled`,
 * `.Briefing.Unknown`), made with tmp/, new/ and cur/ when first needed.
 */
export async function openMaildirMailbox(dir: string, options: MailboxOptions = {}): Promise<Mailbox> {
  const limits = mailboxLimits(options);
  const root = Buffer.from(dir);
  for (const sub of ['', 'new', 'cur']) {
    const at = sub === '' ? root : maildirPath(root, sub);
    const stat = await lstat(at).catch((error: unknown) => {
      throw new BriefingError('returns', 'maildir-missing', `${printablePath(at)} cannot be read as a Maildir: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { cause: error });
    });
    if (!stat.isDirectory()) throw notADirectory(at);
  }
  return maildirMailbox(root, limits);
}
