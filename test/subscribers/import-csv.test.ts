import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BriefingError, formatProblem } from '../../src/errors.js';
import type { NewSubscriber } from '../../src/store/store.js';
import { exportSubscriberCsv } from '../../src/subscribers/export-csv.js';
import { importSubscriberCsv, readSubscriberCsv } from '../../src/subscribers/import-csv.js';
import { postgresAvailable, postgresFixture, sqliteFixture, type StoreFixture } from '../store/store-fixtures.js';

const NOW = new Date('2025-07-23T04:00:00Z');
const TOPIC_IDS = ['talks', 'protests', 'war'];
let clock = 0;
const elapsedSeconds = (): number => (clock += 0.5);

async function readAll(text: string | Buffer[], options: { status?: NewSubscriber['status']; batchSize?: number } = {}) {
  const { batches, report } = readSubscriberCsv(Readable.from(typeof text === 'string' ? [text] : text), {
    file: 'list.csv',
    status: options.status ?? 'active',
    source: 'import:list.csv',
    topicIds: TOPIC_IDS,
    batchSize: options.batchSize ?? 1000,
  });
  const collected: NewSubscriber[][] = [];
  for await (const batch of batches) collected.push(batch);
  return { batches: collected, rows: collected.flat(), report, messages: report.problems.map(formatProblem) };
}

describe('readSubscriberCsv', () => {
  it('reads address/email and name columns in any case, with a BOM and CRLF', async () => {
    const { rows, report } = await readAll('\uFEFF Name ,EMAIL,Notes\r\nOlena,Olena@Example.ORG,x\r\n,sam@example.net,\r\n');
    expect(rows).toEqual([
      { address: 'Olena@example.org', name: 'Olena', status: 'active', source: 'import:list.csv' },
      { address: 'sam@example.net', name: null, status: 'active', source: 'import:list.csv' },
    ]);
    expect(report).toEqual({ lines: 2, errors: 0, problems: [] });
  });

  it('names file, line and field of every bad line, counting lines as an editor does', async () => {
    const text = [
      'address,name,status', // 1
      'good@example.org,Good,', // 2
      'not-an-address,Bad,', // 3
      '', // 4 (blank: skipped)
      '"quoted@example.org","Two\r', // 5 (a quoted CRLF)
      'lines",', // 6
      'evil@example.org,"Evil\u0007Bell",', // 7
      'ok@example.org,,zombie', // 8
      'user@bad_domain.org,,', // 9
      'bad"quote@example.org,,', // 10
      'last@example.org,Last,pending', // 11
    ].join('\n');
    const { rows, report, messages } = await readAll(text);
    expect(rows.map((r) => [r.address, r.status])).toEqual([
      ['good@example.org', 'active'],
      ['last@example.org', 'pending'],
    ]);
    expect(report.lines).toBe(8);
    expect(report.errors).toBe(6);
    expect(messages).toEqual([
      expect.stringMatching(/^list\.csv:3: address: "not-an-address" is not an address/),
      expect.stringMatching(/^list\.csv:5: name: contains a control character/),
      expect.stringMatching(/^list\.csv:7: name: contains a control character/),
      expect.stringMatching(/^list\.csv:8: status: "zombie" is not one of pending, active, unsubscribed, bounced/),
      expect.stringMatching(/^list\.csv:9: address: the domain "bad_domain.org" may only contain/),
      expect.stringMatching(/^list\.csv:10: csv: /),
    ]);
  });

  it('refuses a row that is not UTF-8, naming its line, rather than importing U+FFFD; reads characters cut between chunks whole', async () => {
    const latin1 = Buffer.concat([Buffer.from('address,name\nok@example.org,Zoë\ncafe@example.org,Caf'), Buffer.from([0xe9]), Buffer.from('\nlast@example.org,Last\n')]);
    const { rows, messages } = await readAll([latin1]);
    expect(messages).toEqual(['list.csv:3: csv: is not UTF-8 text (byte 0xE9): save it as UTF-8']);
    expect(rows.map((row) => row.address)).toEqual(['ok@example.org', 'last@example.org']);

    const text = Buffer.from('address,name\nzoe@example.org,Zoë € 𝄞\nnext@example.org,Next\n');
    for (let cut = 1; cut < text.length; cut += 1) {
      const split = await readAll([text.subarray(0, cut), text.subarray(cut)]);
      expect(split.messages, `cut at ${cut}`).toEqual([]);
      expect(split.rows.map((row) => row.name), `cut at ${cut}`).toEqual(['Zoë € 𝄞', 'Next']);
    }
  });

  it('refuses a row with a value past the header\'s columns (an unquoted comma), and takes empty ones', async () => {
    const { rows, messages } = await readAll('address,name\njane@example.org,Doe, Jane\nsam@example.org,Sam,,\n"ann@example.org","Roe, Ann"\n');
    expect(messages).toEqual(['list.csv:2: csv: has 3 cells where the header has 2: a value with a comma needs quotes']);
    expect(rows.map((row) => [row.address, row.name])).toEqual([
      ['sam@example.org', 'Sam'],
      ['ann@example.org', 'Roe, Ann'],
    ]);
  });

  it('names the line where a quote that is never closed opens, not the file\'s end', async () => {
    // Blank lines and a quoted line break before it count, as an editor counts them.
    const text = 'address,name\nann@example.org,Ann\n\n\nbo@example.org,"Bo\nBo"\nsam@example.org,"Sam\nlast@example.org,Last\n\n';
    const { rows, messages } = await readAll(text);
    expect(messages).toEqual([
      expect.stringMatching(/^list\.csv:5: name: contains a control character/),
      'list.csv:7: csv: a quote opened in the row that starts here is never closed',
    ]);
    expect(rows.map((row) => row.address)).toEqual(['ann@example.org']);
  });

  it('never names a line inside a skipped row, nor past the file, for a quote that is never closed', async () => {
    // A bad closing quote skips its row up to the row's end (line 4 here): the unclosed quote is csv-parse's to place.
    const afterSkip = await readAll('address,name\na@example.org,A"b,"multi\nline\nmore"\nz@example.org,"unclosed\n');
    expect(afterSkip.messages.at(-1)).toMatch(/^list\.csv:5: csv: Quote Not Closed/);
    // After a bad closing quote csv-parse stays within the quotes: the quote never closed is that one, and the file has 4 lines.
    const sameQuote = await readAll('address,name\n"a@example.org"x,A\nc@example.org,C\n"b,B\n');
    for (const message of sameQuote.messages) expect(Number(/^list\.csv:(\d+):/.exec(message)?.[1])).toBeLessThanOrEqual(4);
  });

  it('uses --status for rows without one and reads times written by export', async () => {
    const { rows, messages } = await readAll(
      'address,status,created,confirmed,unsubscribed\n' +
        'a@example.org,,,,\n' +
        'b@example.org,unsubscribed,2024-01-02T03:04:05.000Z,2024-01-03T00:00:00Z,2025-02-01T10:00:00+02:00\n' +
        'c@example.org,,yesterday,,\n',
      { status: 'pending' },
    );
    expect(rows).toEqual([
      { address: 'a@example.org', name: null, status: 'pending', source: 'import:list.csv', confirmedAt: null, unsubscribedAt: null },
      {
        address: 'b@example.org',
        name: null,
        status: 'unsubscribed',
        source: 'import:list.csv',
        createdAt: new Date('2024-01-02T03:04:05Z'),
        confirmedAt: new Date('2024-01-03T00:00:00Z'),
        unsubscribedAt: new Date('2025-02-01T08:00:00Z'),
      },
    ]);
    expect(messages).toEqual([expect.stringMatching(/^list\.csv:4: created: "yesterday" is not an ISO 8601 time/)]);
  });

  it('yields batches of the requested size', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `r${i}@example.org`);
    const { batches } = await readAll(`email\n${lines.join('\n')}\n`, { batchSize: 4 });
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it.each([
    ['name,phone\nOlena,123\n', /list\.csv:1: header: no "address" or "email" column/],
    ['email,Address\na@example.org,b@example.org\n', /list\.csv:1: header: two columns give the address/],
    ['', /list\.csv:1: header: the file is empty/],
  ])('refuses a file whose header is unusable: %j', async (text, message) => {
    const error = await readAll(text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as BriefingError).message).toMatch(message);
  });

  it('names a file saved as UTF-16 without a byte-order mark as such, not as a header without an address column', async () => {
    const utf16 = Buffer.from('email,name\nolena@example.org,Olena\n', 'utf16le');
    const error = await readAll([utf16]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as BriefingError).message).toMatch(/list\.csv:1: header: the file looks like UTF-16 without a byte-order mark \(NUL bytes between the letters\): save it as UTF-8$/m);
  });
});

describe('importSubscriberCsv', () => {
  let dir: string;
  let fixture: StoreFixture;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'briefing-import-'));
    fixture = await sqliteFixture();
  });
  afterEach(async () => {
    await fixture.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('imports nothing from a file with a bad line; imports a clean one, merging duplicates and never re-activating unsubscribed or bounced addresses', async () => {
    const { store } = fixture;
    await store.addSubscribers(
      [
        { address: 'left@example.org', status: 'unsubscribed', source: 'web' },
        { address: 'bounced@example.org', status: 'bounced', source: 'delivery' },
        { address: 'known@example.org', name: 'Known', status: 'active', source: 'cli' },
      ],
      NOW,
    );
    const good = 'address,name\nnew@example.org,New\nnew@Example.ORG\nnew@EXAMPLE.org,Newer\nleft@example.org,Back\nbounced@Example.org\nknown@example.org,Known\n';
    // One bad line: every line is checked first, the bad one reported, and nothing is written.
    const file = write('list.csv', `${good}broken,\n`);
    const refused = await importSubscriberCsv(store, file, { status: 'active', topicIds: TOPIC_IDS, now: NOW, batchSize: 2, elapsedSeconds });
    expect(refused).toMatchObject({ lines: 7, errors: 1, written: false, created: 0, updated: 0, unchanged: 0, 'kept-unsubscribed': 0 });
    expect(refused.problems.map(formatProblem)).toEqual([expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8: address:`))]);
    expect(await store.findSubscriber('new@example.org')).toBeUndefined();
    expect(await store.countSubscribers()).toBe(3);

    const result = await importSubscriberCsv(store, write('list.csv', good), { status: 'active', topicIds: TOPIC_IDS, now: NOW, batchSize: 2, elapsedSeconds });
    expect(result).toMatchObject({ lines: 6, errors: 0, written: true, created: 1, updated: 1, unchanged: 2, 'kept-unsubscribed': 2 });
    expect(result.rowsPerSecond).toBe(12);
    expect(await store.findSubscriber('new@example.org')).toMatchObject({ name: 'Newer', status: 'active', source: 'import:list.csv' });
    expect((await store.findSubscriber('left@example.org'))?.status).toBe('unsubscribed');
    expect((await store.findSubscriber('bounced@example.org'))?.status).toBe('bounced');
  });

  it('reads a topics column: ids separated by spaces (or commas), empty for every topic; a file without the column keeps stored choices', async () => {
    const { store } = fixture;
    await store.addSubscribers([{ address: 'kept@example.org', status: 'active', source: 'cli', topics: ['war'] }], NOW);
    const withTopics = write('topics.csv', 'address,topics\none@example.org,talks war\ntwo@example.org,"protests, talks"\nthree@example.org,\n');
    expect(await importSubscriberCsv(store, withTopics, { status: 'active', topicIds: TOPIC_IDS, now: NOW, elapsedSeconds })).toMatchObject({ created: 3, errors: 0 });
    expect((await store.findSubscriber('one@example.org'))?.topics).toEqual(['talks', 'war']);
    expect((await store.findSubscriber('two@example.org'))?.topics).toEqual(['protests', 'talks']);
    expect((await store.findSubscriber('three@example.org'))?.topics).toBeNull();

    const without = write('plain.csv', 'address,name\nkept@example.org,Kept\nfour@example.org,Four\n');
    expect(await importSubscriberCsv(store, without, { status: 'active', topicIds: TOPIC_IDS, now: NOW, elapsedSeconds })).toMatchObject({ created: 1, updated: 1, errors: 0 });
    expect(await store.findSubscriber('kept@example.org')).toMatchObject({ name: 'Kept', topics: ['war'] });
    expect((await store.findSubscriber('four@example.org'))?.topics).toBeNull();
  });

  it('refuses a whole file naming file, line and field when a topics cell names an unknown or hostile topic', async () => {
    const { store } = fixture;
    const file = write('bad-topics.csv', 'address,topics\nok@example.org,talks\nbad@example.org,talks sport\nworse@example.org,<script>alert(1)</script>\n');
    const result = await importSubscriberCsv(store, file, { status: 'active', topicIds: TOPIC_IDS, now: NOW, elapsedSeconds });
    expect(result).toMatchObject({ errors: 2, written: false, created: 0 });
    expect(result.problems.map(formatProblem)).toEqual([
      `${file}:3: topics: unknown topic "sport" (known: talks, protests, war)`,
      `${file}:4: topics: unknown topic "<script>alert(1)</script>" (known: talks, protests, war)`,
    ]);
    expect(await store.countSubscribers()).toBe(0);
  });

  it('reports an unreadable file as a subscribers error', async () => {
    await expect(importSubscriberCsv(fixture.store, path.join(dir, 'missing.csv'), { status: 'active', topicIds: TOPIC_IDS, now: NOW, elapsedSeconds })).rejects.toThrow(
      /subscribers: cannot read .*missing\.csv: ENOENT/,
    );
  });

  it('round-trips export → import into another store, statuses, times and hostile names included', async () => {
    const { store } = fixture;
    await store.addSubscribers(
      [
        { address: 'a@example.org', name: '=HYPERLINK("http://evil.example")', status: 'active', source: 'cli', topics: ['war', 'talks'] },
        { address: '"odd, quoted"@example.org', name: 'Comma, "Quotes"', status: 'pending', source: 'web', topics: ['protests'] },
        { address: 'пошта@приклад.укр', name: '-minus', status: 'active', source: 'import:x.csv' },
      ],
      NOW,
    );
    await store.addSubscribers([{ address: 'gone@example.org', status: 'unsubscribed', source: 'web' }], new Date(NOW.getTime() + 5000));
    const lines: string[] = [];
    for await (const line of exportSubscriberCsv(store)) lines.push(line);
    expect(lines[0]).toBe('address,name,status,source,created,confirmed,unsubscribed,topics');
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    // Topics as ids separated by spaces; every topic as an empty cell.
    expect(lines[1]).toMatch(/,talks war$/);
    expect(lines[2]).toMatch(/,protests$/);
    expect(lines[3]).toMatch(/,$/);
    const file = write('export.csv', `${lines.join('\n')}\n`);

    const target = await sqliteFixture();
    try {
      const result = await importSubscriberCsv(target.store, file, { status: 'active', topicIds: TOPIC_IDS, now: new Date(NOW.getTime() + 60_000), elapsedSeconds });
      expect(result).toMatchObject({ created: 4, errors: 0 });
      expect((await target.store.findSubscriber('a@example.org'))?.topics).toEqual(['talks', 'war']);
      expect((await target.store.findSubscriber('пошта@приклад.укр'))?.topics).toBeNull();
      // Ids and link keys are the new store's own (links mailed before the move stop working there).
      const strip = (s: { id: number }) => ({ ...s, id: 0, linkKey: '' });
      expect((await target.store.listSubscribers({ limit: 10 })).map(strip)).toEqual((await store.listSubscribers({ limit: 10 })).map(strip));
    } finally {
      await target.cleanup();
    }
  });
});

if (await postgresAvailable()) {
  describe('moving a list from SQLite to PostgreSQL by export and import', () => {
    it('keeps every subscriber with status, name, source and times', async () => {
      const from = await sqliteFixture();
      const to = await postgresFixture();
      const dir = mkdtempSync(path.join(tmpdir(), 'briefing-move-'));
      try {
        const people = Array.from({ length: 2500 }, (_, i): NewSubscriber => ({
          address: `reader${i}@example.org`,
          name: i % 3 === 0 ? null : `Reader "${i}", the ${i}th`,
          status: (['active', 'pending', 'unsubscribed', 'bounced'] as const)[i % 4]!,
          source: 'web',
        }));
        await from.store.addSubscribers(people, NOW);
        const lines: string[] = [];
        for await (const line of exportSubscriberCsv(from.store)) lines.push(line);
        const file = path.join(dir, 'list.csv');
        writeFileSync(file, `${lines.join('\r\n')}\r\n`);
        const result = await importSubscriberCsv(to.store, file, { status: 'active', topicIds: TOPIC_IDS, now: NOW, batchSize: 1000, elapsedSeconds });
        expect(result).toMatchObject({ lines: 2500, created: 2500, errors: 0 });
        const strip = (s: { id: number }) => ({ ...s, id: 0, linkKey: '' });
        expect((await to.store.listSubscribers({ limit: 3000 })).map(strip)).toEqual((await from.store.listSubscribers({ limit: 3000 })).map(strip));
        expect(await to.store.countSubscribers('unsubscribed')).toBe(625);
      } finally {
        await from.cleanup();
        await to.cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
