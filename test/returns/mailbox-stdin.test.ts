import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BriefingError } from '../../src/errors.js';
import type { ReturnedMessage } from '../../src/returns/mailbox.js';
import { stdinMailbox } from '../../src/returns/mailbox-stdin.js';

let base: string;
let unknownMaildir: string;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'briefing-stdin-'));
  unknownMaildir = path.join(base, 'data', 'unknown-mail');
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const MESSAGE = Buffer.from('From: someone@example.org\r\nSubject: hello\r\n\r\nnot a bounce\r\n');

/** A stream of `count` chunks of `size` bytes that records how many were pulled from it. */
function chunks(count: number, size: number): { stream: Readable; pulled: () => number } {
  let pulled = 0;
  const stream = Readable.from(
    (function* generate() {
      for (let n = 0; n < count; n += 1) {
        pulled += 1;
        yield Buffer.alloc(size, 0x61 + (n % 26));
      }
    })(),
    { objectMode: false },
  );
  return { stream, pulled: () => pulled };
}

async function only(stream: Readable, options: { maxBytes?: number; maxSpoolBytes?: number } = {}): Promise<ReturnedMessage[]> {
  const found: ReturnedMessage[] = [];
  for await (const returned of stdinMailbox(stream, { unknownMaildir, ...options }).messages()) found.push(returned);
  return found;
}

/** The files delivered into the unknown Maildir's new/, and whatever is left in tmp/. */
function delivered(): { fresh: Buffer[]; tmp: string[] } {
  if (!existsSync(unknownMaildir)) return { fresh: [], tmp: [] };
  return {
    fresh: readdirSync(path.join(unknownMaildir, 'new')).map((name) => readFileSync(path.join(unknownMaildir, 'new', name))),
    tmp: readdirSync(path.join(unknownMaildir, 'tmp')),
  };
}

describe('standard input mailbox', () => {
  it('yields the one message; handled writes nothing anywhere', async () => {
    const [returned, ...rest] = await only(Readable.from([MESSAGE.subarray(0, 10), MESSAGE.subarray(10)]));
    expect(rest).toEqual([]);
    expect(returned).toMatchObject({ id: 'stdin', oversized: false, raw: MESSAGE });
    await returned?.settle('handled');
    expect(existsSync(unknownMaildir)).toBe(false);
  });

  it('keeps an unknown message, byte for byte, in the named Maildir (tmp/ -> new/)', async () => {
    const [returned] = await only(Readable.from([MESSAGE]));
    await returned?.settle('unknown');
    expect(delivered()).toEqual({ fresh: [MESSAGE], tmp: [] });
    expect(readdirSync(unknownMaildir).sort()).toEqual(['cur', 'new', 'tmp']);
  });

  it('yields nothing for an empty stream', async () => {
    expect(await only(Readable.from([]))).toEqual([]);
  });

  it('attack: an endless stream is read no further than maxBytes before the message is yielded oversized', async () => {
    const endless = chunks(Number.MAX_SAFE_INTEGER, 1024);
    const mailbox = stdinMailbox(endless.stream, { unknownMaildir, maxBytes: 10 * 1024 });
    for await (const returned of mailbox.messages()) {
      expect(returned).toMatchObject({ oversized: true, raw: Buffer.alloc(0) });
      // 11 chunks pass the bound; Readable.from reads ahead by its highWaterMark (16 objects) at most.
      expect(endless.pulled()).toBeLessThan(11 + 17);
    }
    endless.stream.destroy();
  });

  it('keeps an oversized unknown message whole: the part read and the rest of the stream', async () => {
    const big = chunks(40, 1000);
    const [returned] = await only(big.stream, { maxBytes: 5000 });
    expect(returned?.oversized).toBe(true);
    await returned?.settle('unknown');
    const { fresh, tmp } = delivered();
    expect(tmp).toEqual([]);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]?.length).toBe(40_000);
    expect(fresh[0]?.subarray(39_000).every((byte) => byte === 0x61 + (39 % 26))).toBe(true);
  });

  it('attack: a message beyond maxSpoolBytes is refused in one line and leaves no partial file', async () => {
    const [returned] = await only(chunks(100, 1000).stream, { maxBytes: 5000, maxSpoolBytes: 50_000 });
    const error = await returned?.settle('unknown').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as BriefingError).code).toBe('stdin-too-large');
    expect((error as Error).message).toBe('returns: standard input: the message is larger than 50000 bytes and was not kept');
    expect(delivered()).toEqual({ fresh: [], tmp: [] });
  });

  it('an unknown-mail folder that cannot be made is one line naming it, not a stack', async () => {
    writeFileSync(path.join(base, 'data'), 'a file where a folder should be');
    const [returned] = await only(Readable.from([MESSAGE]));
    const error = await returned?.settle('unknown').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as Error).message).toBe(`returns: standard input: cannot keep the message in ${unknownMaildir}: ENOTDIR`);
  });
});
