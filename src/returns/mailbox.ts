import { RETURNS_DEFAULTS } from '../config.js';
import { BriefingError } from '../errors.js';

/**
 * What became of a returned message once it was read: `handled` moves it out of the way (it was a
 * bounce, complaint or unsubscribe the store recorded); `unknown` keeps it, never deleted, in a
 * folder where a person can look at it.
 */
export type Settlement = 'handled' | 'unknown';

/** One message a mailbox holds that no run has settled yet. */
export interface ReturnedMessage {
  /** Names the message within its mailbox, for logs (printable: no control characters). */
  readonly id: string;
  /** The whole message as stored; empty when `oversized`. */
  readonly raw: Buffer;
  /**
   * Larger than the mailbox's `maxBytes`: it was not read (over IMAP, not downloaded), so `raw` is
   * empty and the caller settles it `unknown` without parsing anything.
   */
  readonly oversized: boolean;
  /** Moves the message out of the unsettled set; until then every run sees it again (a crash loses nothing). */
  settle(outcome: Settlement): Promise<void>;
}

/**
 * Where returned mail is read from (Maildir, standard input, IMAP). `messages()` yields every
 * message not yet settled, each once per call; the consumer settles each before asking for the next.
 */
export interface Mailbox {
  /** Where the mail is read from, safe to log (never a password). */
  readonly describe: string;
  /** The unsettled messages; a watching mailbox goes on yielding new ones until `signal` aborts. */
  messages(signal?: AbortSignal): AsyncIterable<ReturnedMessage>;
  /** Releases the connection or files; safe to call twice. */
  close(): Promise<void>;
}

/** What every mailbox takes; each field has a default (the same as the config's `returns`). */
export interface MailboxOptions {
  /** Messages larger than this many bytes are yielded `oversized`, unread (default 5 MB). */
  maxBytes?: number;
  /**
   * Folder of handled messages, as names joined by `/` like the config's `returns.handledFolder`:
   * Maildir++ `.Briefing.Handled`, IMAP `Briefing/Handled` with the server's delimiter
   * (default `Briefing/Handled`).
   */
  handledFolder?: string;
  /** Folder of unknown messages, kept for a person (default `Briefing/Unknown`). */
  unknownFolder?: string;
}

/** MailboxOptions checked, defaults filled in; folders as their names, outermost first. */
export interface MailboxLimits {
  maxBytes: number;
  handledFolder: readonly string[];
  unknownFolder: readonly string[];
}

/**
 * A name may hold neither a hierarchy delimiter (`.` in Maildir++, `.` or `/` on IMAP servers)
 * nor controls, and must not start with `~` or `&` (home and IMAP's modified UTF-7 escapes).
 */
const FOLDER_NAME = /^[^./\\~&\p{Cc}][^./\\\p{Cc}]{0,99}$/u;

function checkFolder(field: string, folder: string): readonly string[] {
  const names = folder.split('/');
  if (names.length > 8 || !names.every((name) => FOLDER_NAME.test(name))) {
    throw new BriefingError('returns', 'invalid-folder', `${field} must be 1 to 8 names of up to 100 characters joined by /, without . \\ or control characters`);
  }
  return names;
}

/** Checks mailbox options and fills in the defaults; the two folders must differ. */
export function mailboxLimits(options: MailboxOptions = {}): MailboxLimits {
  const maxBytes = options.maxBytes ?? RETURNS_DEFAULTS.maxMessageBytes;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new BriefingError('returns', 'invalid-max-bytes', 'maxBytes must be a positive whole number of bytes');
  const handledFolder = checkFolder('handledFolder', options.handledFolder ?? RETURNS_DEFAULTS.handledFolder);
  const unknownFolder = checkFolder('unknownFolder', options.unknownFolder ?? RETURNS_DEFAULTS.unknownFolder);
  if (handledFolder.join('/') === unknownFolder.join('/')) throw new BriefingError('returns', 'invalid-folder', 'handledFolder and unknownFolder must differ');
  return { maxBytes, handledFolder, unknownFolder };
}

/**
 * The folder each settlement moves to, made by `make` (given the folder's segments) on first use
 * and remembered; a failed attempt is forgotten, so the next settle tries again.
 */
export function settlementFolders<T>(limits: MailboxLimits, make: (segments: readonly string[]) => Promise<T>): (outcome: Settlement) => Promise<T> {
  const made = new Map<Settlement, Promise<T>>();
  return (outcome) => {
    let folder = made.get(outcome);
    if (folder === undefined) {
      folder = make(outcome === 'handled' ? limits.handledFolder : limits.unknownFolder);
      folder.catch(() => made.delete(outcome));
      made.set(outcome, folder);
    }
    return folder;
  };
}
