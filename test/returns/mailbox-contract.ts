/**
 * What every mailbox that holds many messages (Maildir, IMAP) promises, as one suite each backend
 * runs against its real store. Standard input holds one message and has its own tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mailbox, MailboxOptions, ReturnedMessage } from '../../src/returns/mailbox.js';

/** A message as a folder holds it: its subject and whether it is marked seen. */
export interface HeldMessage {
  subject: string;
  seen: boolean;
}

/** A backend's real store, prepared for one test. */
export interface MailboxFixture {
  /** Puts a message with this subject (and body) where the mailbox reads unsettled mail. */
  put(subject: string, body?: string): Promise<void>;
  open(options?: MailboxOptions): Promise<Mailbox>;
  /** The messages in the unsettled place or in a settlement folder (named by its segments), by subject. */
  held(folder: 'unsettled' | readonly string[]): Promise<HeldMessage[]>;
  /** Messages in every folder together: equal before and after proves nothing was deleted. */
  total(): Promise<number>;
  cleanup(): Promise<void>;
}

export const HANDLED = ['Briefing', 'Handled'] as const;
export const UNKNOWN = ['Briefing', 'Unknown'] as const;

export const returnedMessage = (subject: string, body = `body of ${subject}`): string =>
  `From: MAILER-DAEMON@example.org\r\nTo: bounce@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\n${body}\r\n`;

export const subjectOf = (returned: ReturnedMessage): string | undefined => /^Subject: (.*)\r$/m.exec(returned.raw.toString())?.[1];

/** Every message one `messages()` yields, each settled by `settle` when given. */
export async function collect(mailbox: Mailbox, settle?: (returned: ReturnedMessage) => Promise<void>, signal?: AbortSignal): Promise<ReturnedMessage[]> {
  const found: ReturnedMessage[] = [];
  for await (const returned of mailbox.messages(signal)) {
    found.push(returned);
    await settle?.(returned);
  }
  return found;
}

const bySubject = (messages: HeldMessage[]): HeldMessage[] => [...messages].sort((a, b) => a.subject.localeCompare(b.subject));

export function mailboxContract(name: string, prepare: () => Promise<MailboxFixture>): void {
  describe(`${name}: the Mailbox contract`, () => {
    let store: MailboxFixture;
    const opened: Mailbox[] = [];
    const open = async (options?: MailboxOptions): Promise<Mailbox> => {
      const mailbox = await store.open(options);
      opened.push(mailbox);
      return mailbox;
    };

    beforeEach(async () => {
      store = await prepare();
    });

    afterEach(async () => {
      for (const mailbox of opened.splice(0)) await mailbox.close();
      await store.cleanup();
    });

    it('yields every unsettled message, moves handled ones (seen) to Briefing/Handled and unknown ones to Briefing/Unknown, deletes nothing; the next run sees none', async () => {
      for (const subject of ['dsn', 'arf', 'stranger']) await store.put(subject);
      const before = await store.total();
      const read = await collect(await open(), (returned) => returned.settle(subjectOf(returned) === 'stranger' ? 'unknown' : 'handled'));
      expect(read.map(subjectOf).sort()).toEqual(['arf', 'dsn', 'stranger']);
      expect(read.every((returned) => !returned.oversized && returned.id !== '')).toBe(true);
      expect(await store.total()).toBe(before);
      expect(await store.held('unsettled')).toEqual([]);
      expect(bySubject(await store.held(HANDLED))).toEqual([
        { subject: 'arf', seen: true },
        { subject: 'dsn', seen: true },
      ]);
      expect(await store.held(UNKNOWN)).toEqual([{ subject: 'stranger', seen: false }]);
      expect(await collect(await open())).toEqual([]);
    });

    it('sees again, next run, a message read but never settled (a crash before settle), still unseen', async () => {
      await store.put('dsn');
      const first = await open();
      for await (const returned of first.messages()) {
        expect(subjectOf(returned)).toBe('dsn');
        break;
      }
      expect(await store.held('unsettled')).toEqual([{ subject: 'dsn', seen: false }]);
      expect((await collect(await open())).map(subjectOf)).toEqual(['dsn']);
    });

    it('yields a message over maxBytes as oversized with nothing read; settled unknown it is kept, unseen', async () => {
      await store.put('huge', 'x'.repeat(76).concat('\r\n').repeat(100));
      await store.put('small');
      const before = await store.total();
      const read = await collect(await open({ maxBytes: 1024 }), (returned) => returned.settle(returned.oversized ? 'unknown' : 'handled'));
      expect(read.map((returned) => ({ oversized: returned.oversized, bytes: returned.raw.length })).sort((a, b) => a.bytes - b.bytes)).toEqual([
        { oversized: true, bytes: 0 },
        { oversized: false, bytes: returnedMessage('small').length },
      ]);
      expect(await store.total()).toBe(before);
      expect(await store.held(UNKNOWN)).toEqual([{ subject: 'huge', seen: false }]);
    });

    it('stops yielding when the signal aborts, leaving the rest unsettled', async () => {
      for (const subject of ['one', 'two', 'three']) await store.put(subject);
      const controller = new AbortController();
      const read = await collect(await open(), async (returned) => {
        await returned.settle('handled');
        controller.abort();
      }, controller.signal);
      expect(read).toHaveLength(1);
      expect(await store.held('unsettled')).toHaveLength(2);
    });

    it('settles into the folders the options name; a second settle of the same message changes nothing', async () => {
      await store.put('dsn');
      const [returned] = await collect(await open({ handledFolder: 'Returns/Done' }));
      await returned?.settle('handled');
      await returned?.settle('handled');
      expect(await store.held(['Returns', 'Done'])).toEqual([{ subject: 'dsn', seen: true }]);
      expect(await store.total()).toBe(1);
    });
  });
}
