import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BriefingError } from '../../src/errors.js';
import { openMaildirMailbox } from '../../src/returns/mailbox-maildir.js';
import { collect, mailboxContract, returnedMessage, subjectOf, type HeldMessage } from './mailbox-contract.js';

let root: string;
let outside: string;

beforeEach(() => {
  const base = mkdtempSync(path.join(tmpdir(), 'briefing-maildir-'));
  root = path.join(base, 'Maildir');
  outside = path.join(base, 'outside');
  for (const dir of [root, outside, ...['tmp', 'new', 'cur'].map((sub) => path.join(root, sub))]) mkdirSync(dir);
});

afterEach(() => {
  rmSync(path.dirname(root), { recursive: true, force: true });
});

/** Names as bytes: several tests use names that are not UTF-8. */
const put = (sub: string, name: string | Buffer, text: string): void => {
  writeFileSync(Buffer.concat([Buffer.from(`${root}/${sub}/`), Buffer.from(name)]), text);
};

/** Every file (names as latin1) under a folder of the Maildir, as `sub/name`. */
function filesIn(folder: string): string[] {
  return ['new', 'cur', 'tmp']
    .filter((sub) => existsSync(path.join(root, folder, sub)))
    .flatMap((sub) => readdirSync(path.join(root, folder, sub), { encoding: 'buffer' }).map((name) => `${sub}/${name.toString('latin1')}`))
    .sort();
}

/** A Maildir's messages as the contract sees them: seen is the `S` flag of a file in cur/. */
function heldIn(folder: string): HeldMessage[] {
  return filesIn(folder)
    .filter((file) => !file.startsWith('tmp/'))
    .map((file) => ({
      subject: /^Subject: (.*)\r$/m.exec(readFileSync(path.join(root, folder, file), 'utf8'))?.[1] ?? '',
      seen: file.startsWith('cur/') && /:2,[A-Z]*S/.test(file),
    }));
}

let delivered = 0;

mailboxContract('Maildir', async () => ({
  put: async (subject, body) => {
    delivered += 1;
    put('new', `1700000000.M${delivered}P${process.pid}.host`, returnedMessage(subject, body));
  },
  open: (options) => openMaildirMailbox(root, options),
  held: async (folder) => heldIn(folder === 'unsettled' ? '' : `.${folder.join('.')}`),
  total: async () => ['', ...readdirSync(root).filter((name) => name.startsWith('.'))].reduce((sum, folder) => sum + heldIn(folder).length, 0),
  // The Maildir is this file's, removed after each test.
  cleanup: async () => undefined,
}));

describe('Maildir mailbox', () => {
  it('attack: a symlink in new/ to a file outside the Maildir is not followed, not read, not moved', async () => {
    writeFileSync(path.join(outside, 'secret'), 'root:x:0:0 secret');
    symlinkSync(path.join(outside, 'secret'), path.join(root, 'new', '1700000000.M1P1.host'));
    put('new', '1700000001.M2P2.host', returnedMessage('dsn'));
    const seen = await collect(await openMaildirMailbox(root));
    expect(seen.map((returned) => returned.id)).toEqual(['new/1700000001.M2P2.host']);
    expect(seen.some((returned) => returned.raw.toString().includes('secret'))).toBe(false);
  });

  it('attack: a FIFO in new/ is skipped without being opened (a read would block)', async () => {
    const made = spawnSync('mkfifo', [path.join(root, 'new', '1700000000.M1P1.host')]);
    expect(made.status).toBe(0);
    put('new', '1700000001.M2P2.host', returnedMessage('dsn'));
    expect((await collect(await openMaildirMailbox(root))).map((returned) => returned.id)).toEqual(['new/1700000001.M2P2.host']);
  });

  it('attack: new/ replaced by a symlink to another folder is refused, naming it', async () => {
    rmSync(path.join(root, 'new'), { recursive: true });
    symlinkSync(outside, path.join(root, 'new'));
    await expect(openMaildirMailbox(root)).rejects.toThrow(/Maildir\/new is not a directory \(a symlink is not followed\)/);
  });

  it('attack: a Handled folder planted as a symlink to elsewhere is refused; the message stays where it was', async () => {
    put('new', '1700000000.M1P1.host', returnedMessage('dsn'));
    symlinkSync(outside, path.join(root, '.Briefing.Handled'));
    const [returned] = await collect(await openMaildirMailbox(root));
    const settling = returned?.settle('handled');
    await expect(settling).rejects.toBeInstanceOf(BriefingError);
    await expect(settling).rejects.toThrow(/\.Briefing\.Handled is not a directory/);
    expect(readdirSync(outside)).toEqual([]);
    expect(filesIn('')).toEqual(['new/1700000000.M1P1.host']);
  });

  it('attack: a huge file (8 GiB, sparse) is yielded oversized without being read, and kept when settled unknown', async () => {
    put('new', '1700000000.M1P1.host', '');
    truncateSync(path.join(root, 'new', '1700000000.M1P1.host'), 8 * 1024 ** 3);
    // Reading it would need an 8 GiB buffer, past what Node allocates: this passes only unread.
    const [returned] = await collect(await openMaildirMailbox(root));
    expect(returned?.oversized).toBe(true);
    expect(returned?.raw.length).toBe(0);
    await returned?.settle('unknown');
    expect(filesIn('.Briefing.Unknown')).toEqual(['new/1700000000.M1P1.host']);
  });

  it('yields a message one byte over maxBytes as oversized and one at maxBytes whole', async () => {
    put('new', '1700000000.M1P1.host', 'x'.repeat(100));
    put('new', '1700000001.M1P1.host', 'y'.repeat(101));
    const seen = await collect(await openMaildirMailbox(root, { maxBytes: 100 }));
    const byId = new Map(seen.map((returned) => [returned.id, returned]));
    expect(byId.get('new/1700000000.M1P1.host')?.raw.toString()).toBe('x'.repeat(100));
    expect(byId.get('new/1700000001.M1P1.host')).toMatchObject({ oversized: true, raw: Buffer.alloc(0) });
  });

  it('attack: file names with a newline, spaces, a non-UTF-8 byte and escapes are read and moved as they are, with printable ids', async () => {
    const odd = Buffer.concat([Buffer.from('1700000000.M1P1.h o\nst'), Buffer.from([0xff, 0x1b]), Buffer.from('[31m\\é')]);
    put('new', odd, returnedMessage('dsn'));
    const [returned] = await collect(await openMaildirMailbox(root));
    expect(returned?.id).toBe('new/1700000000.M1P1.h o\\x0ast\\xff\\x1b[31m\\x5c\\xc3\\xa9');
    expect(returned?.id).not.toMatch(/\p{Cc}/u);
    await returned?.settle('handled');
    expect(filesIn('.Briefing.Handled')).toEqual([`cur/${Buffer.concat([odd, Buffer.from(':2,S')]).toString('latin1')}`]);
    expect(filesIn('')).toEqual([]);
  });

  it('attack: a message whose name is taken in the Handled folder gets a fresh name instead of replacing the one there', async () => {
    mkdirSync(path.join(root, '.Briefing.Handled', 'cur'), { recursive: true });
    writeFileSync(path.join(root, '.Briefing.Handled', 'cur', '1700000000.M1P1.host:2,S'), 'the earlier message');
    put('new', '1700000000.M1P1.host', returnedMessage('dsn'));
    const [returned] = await collect(await openMaildirMailbox(root));
    await returned?.settle('handled');
    const kept = filesIn('.Briefing.Handled').filter((file) => file.startsWith('cur/'));
    expect(kept).toHaveLength(2);
    const contents = kept.map((file) => readFileSync(path.join(root, '.Briefing.Handled', file), 'utf8')).sort();
    expect(contents).toEqual([returnedMessage('dsn'), 'the earlier message'].sort());
  });

  it('reads new/ and cur/, names Handled files seen in cur/ and keeps Unknown ones where and as they were, in Maildir++ folders', async () => {
    put('new', '1700000000.M1P1.host', returnedMessage('dsn'));
    put('cur', '1700000001.M2P2.host:2,R', returnedMessage('complaint'));
    put('cur', '1700000002.M3P3.host:2,F', returnedMessage('stranger'));
    const read = await collect(await openMaildirMailbox(root), (returned) => returned.settle(subjectOf(returned) === 'stranger' ? 'unknown' : 'handled'));
    expect(read.map((returned) => returned.id).sort()).toEqual(['cur/1700000001.M2P2.host:2,R', 'cur/1700000002.M3P3.host:2,F', 'new/1700000000.M1P1.host']);
    expect(filesIn('.Briefing.Handled')).toEqual(['cur/1700000000.M1P1.host:2,S', 'cur/1700000001.M2P2.host:2,RS']);
    expect(filesIn('.Briefing.Unknown')).toEqual(['cur/1700000002.M3P3.host:2,F']);
    // As Dovecot makes them: tmp/, new/, cur/ and the maildirfolder marker.
    for (const folder of ['.Briefing.Handled', '.Briefing.Unknown']) {
      expect(readdirSync(path.join(root, folder)).sort()).toEqual(['cur', 'maildirfolder', 'new', 'tmp']);
    }
  });

  it('refuses a folder name with a delimiter or a parent step', async () => {
    await expect(openMaildirMailbox(root, { handledFolder: 'a.b' })).rejects.toThrow(/handledFolder must be/);
    await expect(openMaildirMailbox(root, { unknownFolder: '../x' })).rejects.toThrow(/unknownFolder must be/);
  });

  it('refuses a folder that is not a Maildir, in one line naming it', async () => {
    const error = await openMaildirMailbox(path.join(outside, 'missing')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as Error).message).toMatch(/^returns: .*outside\/missing cannot be read as a Maildir: ENOENT$/);
  });
});
