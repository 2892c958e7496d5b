/**
 * `briefing subscribers …` end to end: the built CLI (dist/, `npx tsc -p .` first) as a child process
 * against a temp publication whose store is a real SQLite file (and PostgreSQL for the move).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStoreAt } from '../../src/store/open-store.js';
import { postgresAvailable, postgresFixture } from '../store/store-fixtures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/cli/main.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let config: string;

function briefing(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const { BRIEFING_DATABASE_URL: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args, '--config', config], { cwd: dir, env: { ...inherited, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

beforeEach(() => {
  expect(existsSync(cli), 'build dist first: npx tsc -p .').toBe(true);
  dir = mkdtempSync(path.join(tmpdir(), 'briefing-cli-'));
  config = path.join(dir, 'briefing.config.json');
  copyFileSync(path.join(root, 'briefing.config.json'), config);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('briefing subscribers (SQLite at data/briefing.db)', () => {
  it('adds, merges on the domain case, lists as JSON lines and removes', async () => {
    expect(await briefing(['subscribers', 'add', 'Olena@Example.ORG', '--name', 'Olena'])).toMatchObject({ code: 0, stdout: 'created Olena@example.org (active)\n' });
    expect(existsSync(path.join(dir, 'data/briefing.db'))).toBe(true);
    expect(await briefing(['subscribers', 'add', 'Olena@example.org'])).toMatchObject({ code: 0, stdout: 'unchanged Olena@example.org (active)\n' });
    expect(await briefing(['subscribers', 'add', 'sam@example.net', '--status', 'pending'])).toMatchObject({ code: 0 });

    const listed = await briefing(['subscribers', 'list', '--json']);
    expect(listed.code).toBe(0);
    const rows = lines(listed.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toMatchObject([
      { address: 'Olena@example.org', name: 'Olena', status: 'active', source: 'cli' },
      { address: 'sam@example.net', name: null, status: 'pending', confirmedAt: null },
    ]);
    expect(lines((await briefing(['subscribers', 'list', '--status', 'pending'])).stdout)).toEqual(['sam@example.net\tpending\t\tall\t\t\t']);

    expect(await briefing(['subscribers', 'remove', 'nobody@example.org'])).toMatchObject({ code: 1, stderr: expect.stringContaining('nobody@example.org is not on the list') });
    // The local part's case does not make another person either.
    expect(await briefing(['subscribers', 'remove', 'olena@EXAMPLE.org'])).toMatchObject({ code: 0, stdout: 'removed Olena@example.org\n' });
    expect(lines((await briefing(['subscribers', 'list'])).stdout)).toEqual(['sam@example.net\tpending\t\tall\t\t\t']);
  });

  it('subscribers add Reader.One@Example.org updates the existing reader.one@example.org instead of adding a second', async () => {
    expect(await briefing(['subscribers', 'add', 'reader.one@example.org'])).toMatchObject({ code: 0, stdout: 'created reader.one@example.org (active)\n' });
    expect(await briefing(['subscribers', 'add', 'Reader.One@Example.org', '--name', 'Reader One'])).toMatchObject({ code: 0, stdout: 'updated reader.one@example.org (active)\n' });
    expect(lines((await briefing(['subscribers', 'list'])).stdout)).toEqual(['reader.one@example.org\tactive\tReader One\tall\t\t\t']);
  });

  it.each([
    [['subscribers', 'add', 'not-an-address'], /^subscribers: address: "not-an-address" is not an address/],
    [['subscribers', 'add', 'x@example.org\r\nBcc: victim@example.org'], /^subscribers: address: contains a control character/],
    [['subscribers', 'add', 'x@example.org', '--name', 'Evil\r\nBcc: victim@example.org'], /^subscribers: name: contains a control character/],
    [['subscribers', 'add', 'x@example.org', '--status', 'bounced'], /argument 'bounced' is invalid/],
  ])('refuses %j with a clear error and a non-zero exit', async (args, message) => {
    const result = await briefing(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    // Refused before the store is opened: nothing written.
    expect(existsSync(path.join(dir, 'data/briefing.db'))).toBe(false);
  });

  it('imports nothing from a CSV with bad lines, names file:line:field of each and exits 1; imports it once fixed', async () => {
    await briefing(['subscribers', 'add', 'left@example.org']);
    const store = await openStoreAt({ kind: 'sqlite', file: path.join(dir, 'data/briefing.db') });
    const left = await store.findSubscriber('left@example.org');
    await store.setSubscriberStatus(left!.id, 'unsubscribed', new Date(), 'test');
    await store.close();

    write(
      'list.csv',
      [
        'Email,Name',
        'one@example.org,One',
        'two@@example.org,Two',
        'three@example.org,"Three\u0007"',
        'one@EXAMPLE.org,One again',
        'left@example.org,Back again',
        'four@exa_mple.org,',
        'five@пример.рф,Five',
        '',
      ].join('\n'),
    );
    const result = await briefing(['subscribers', 'import', 'list.csv', '--status', 'pending']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^list\.csv: 7 lines in [\d.]+ s \(\d+ rows\/s\): imported 0, updated 0, unchanged 0, kept-unsubscribed 0, errors 3\n$/);
    expect(lines(result.stderr)).toEqual([
      'subscribers: 3 lines of list.csv had errors, so nothing was imported: fix them and import the file again',
      expect.stringMatching(/^subscribers: list\.csv:3: address: /),
      expect.stringMatching(/^subscribers: list\.csv:4: name: contains a control character/),
      expect.stringMatching(/^subscribers: list\.csv:7: address: the domain "exa_mple\.org"/),
    ]);
    const leftLine = expect.stringMatching(/^left@example\.org\tunsubscribed\t\tall\t\ttest\t\d{4}-\d\d-\d\d \d\d:\d\d EES?T$/);
    expect(lines((await briefing(['subscribers', 'list'])).stdout)).toEqual([leftLine]);

    // With the bad lines removed, the file imports.
    write('list.csv', ['Email,Name', 'one@example.org,One', 'one@EXAMPLE.org,One again', 'left@example.org,Back again', 'five@пример.рф,Five', ''].join('\n'));
    const fixed = await briefing(['subscribers', 'import', 'list.csv', '--status', 'pending']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/^list\.csv: 4 lines in [\d.]+ s \(\d+ rows\/s\): imported 2, updated 1, unchanged 0, kept-unsubscribed 1, errors 0\n$/);
    expect(lines((await briefing(['subscribers', 'list'])).stdout)).toEqual([
      leftLine,
      'one@example.org\tpending\tOne again\tall\t\t\t',
      'five@xn--e1afmkfd.xn--p1ai\tpending\tFive\tall\t\t\t',
    ]);
    expect(await briefing(['subscribers', 'add', 'left@example.org'])).toMatchObject({ code: 1, stderr: expect.stringContaining('left@example.org is unsubscribed: not re-activated') });
  });

  it('prints a JSON summary with --json and exits 0 for a clean file', async () => {
    write('clean.csv', 'address\na@example.org\nb@example.org\n');
    const result = await briefing(['subscribers', 'import', 'clean.csv', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ file: 'clean.csv', lines: 2, imported: 2, updated: 0, unchanged: 0, keptUnsubscribed: 0, errors: 0 });
  });

  it.each([
    ['missing.csv', /subscribers: cannot read missing\.csv: ENOENT/],
    ['noheader.csv', /subscribers: noheader\.csv:1: header: no "address" or "email" column/],
  ])('fails on an unusable file %s', async (file, message) => {
    write('noheader.csv', 'a@example.org,Name\n');
    const result = await briefing(['subscribers', 'import', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('exports CSV that imports back unchanged, and uses BRIEFING_DATABASE_URL=sqlite:PATH', async () => {
    write('list.csv', 'address,name,status\na@example.org,"Doe, Jane",\nb@example.org,=1+1,pending\nc@example.org,,unsubscribed\n');
    expect((await briefing(['subscribers', 'import', 'list.csv'])).code).toBe(0);
    const exported = await briefing(['subscribers', 'export']);
    expect(exported.code).toBe(0);
    expect(lines(exported.stdout)[0]).toBe('address,name,status,source,created,confirmed,unsubscribed,topics');
    expect(lines(exported.stdout)[2]).toMatch(/^b@example\.org,'=1\+1,pending,/);
    const records = parse(exported.stdout, { columns: true }) as Record<string, string>[];
    expect(records.map((r) => [r.address, r.name, r.status, r.source, r.unsubscribed === ''])).toEqual([
      ['a@example.org', 'Doe, Jane', 'active', 'import:list.csv', true],
      ['b@example.org', "'=1+1", 'pending', 'import:list.csv', true],
      ['c@example.org', '', 'unsubscribed', 'import:list.csv', false],
    ]);
    expect(lines((await briefing(['subscribers', 'export', '--status', 'pending'])).stdout)).toHaveLength(2);

    write('export.csv', exported.stdout);
    const other = { BRIEFING_DATABASE_URL: `sqlite:${path.join(dir, 'other/copy.db')}` };
    expect((await briefing(['subscribers', 'import', 'export.csv'], other)).code).toBe(0);
    expect(existsSync(path.join(dir, 'other/copy.db'))).toBe(true);
    expect((await briefing(['subscribers', 'list', '--json'], other)).stdout.replace(/"id":\d+,/g, '')).toBe(
      (await briefing(['subscribers', 'list', '--json'])).stdout.replace(/"id":\d+,/g, ''),
    );
  });

  it('adds with --topics, lists topics, pause and the last status change (text and JSON), and carries topics through export and import', async () => {
    expect(await briefing(['subscribers', 'add', 'some@example.org', '--topics', 'war, talks'])).toMatchObject({ code: 0, stdout: 'created some@example.org (active)\n' });
    expect(await briefing(['subscribers', 'add', 'every@example.org'])).toMatchObject({ code: 0 });
    // --topics on a known address replaces its choice; without it the choice stays.
    expect(await briefing(['subscribers', 'add', 'every@example.org', '--topics', 'protests'])).toMatchObject({ code: 0, stdout: 'updated every@example.org (active)\n' });
    expect(await briefing(['subscribers', 'add', 'every@example.org', '--name', 'Every'])).toMatchObject({ code: 0, stdout: 'updated every@example.org (active)\n' });
    expect(await briefing(['subscribers', 'add', 'all@example.org'])).toMatchObject({ code: 0 });
    const store = await openStoreAt({ kind: 'sqlite', file: path.join(dir, 'data/briefing.db') });
    const paused = await store.findSubscriber('all@example.org');
    await store.setSubscriberPreferences(paused!.id, { topics: null, paused: true }, new Date('2025-07-24T09:00:00Z'));
    const gone = await store.findSubscriber('every@example.org');
    await store.setSubscriberStatus(gone!.id, 'unsubscribed', new Date('2025-07-25T10:30:00Z'), 'preference page');
    await store.close();

    expect(lines((await briefing(['subscribers', 'list'])).stdout)).toEqual([
      'some@example.org\tactive\t\ttalks,war\t\t\t',
      'every@example.org\tunsubscribed\tEvery\tprotests\t\tpreference page\t2025-07-25 13:30 EEST',
      'all@example.org\tactive\t\tall\tpaused since 2025-07-24 12:00 EEST\t\t',
    ]);
    const json = lines((await briefing(['subscribers', 'list', '--json'])).stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(json).toMatchObject([
      { address: 'some@example.org', topics: ['talks', 'war'], pausedAt: null, statusReason: null, statusChangedAt: null },
      { address: 'every@example.org', topics: ['protests'], statusReason: 'preference page', statusChangedAt: '2025-07-25T10:30:00.000Z' },
      { address: 'all@example.org', topics: null, pausedAt: '2025-07-24T09:00:00.000Z' },
    ]);

    const exported = await briefing(['subscribers', 'export']);
    const records = parse(exported.stdout, { columns: true }) as Record<string, string>[];
    expect(records.map((r) => [r.address, r.topics])).toEqual([
      ['some@example.org', 'talks war'],
      ['every@example.org', 'protests'],
      ['all@example.org', ''],
    ]);
    write('export.csv', exported.stdout);
    const other = { BRIEFING_DATABASE_URL: `sqlite:${path.join(dir, 'other/copy.db')}` };
    expect((await briefing(['subscribers', 'import', 'export.csv'], other)).code).toBe(0);
    const copied = lines((await briefing(['subscribers', 'list', '--json'], other)).stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(copied.map((row) => [row.address, row.topics])).toEqual([
      ['some@example.org', ['talks', 'war']],
      ['every@example.org', ['protests']],
      ['all@example.org', null],
    ]);
  });

  it.each([
    [['--topics', 'talks,sport'], /^subscribers: --topics: unknown topic "sport" \(known: talks, protests, war\)$/m],
    [['--topics', '<script>,war'], /^subscribers: --topics: unknown topic "<script>" \(known: talks, protests, war\)$/m],
    [['--topics', ' , '], /^subscribers: --topics: name at least one topic \(known: talks, protests, war\)$/m],
  ])('refuses subscribers add %j as a usage error (exit 2) naming the topic and the known ones, writing nothing', async (topics, message) => {
    const result = await briefing(['subscribers', 'add', 'x@example.org', ...topics]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'data/briefing.db'))).toBe(false);
  });

  it('refuses a CSV whose topics cell names an unknown topic: FILE:LINE: topics, nothing imported', async () => {
    write('list.csv', 'address,topics\na@example.org,talks\nb@example.org,war sport\n');
    const result = await briefing(['subscribers', 'import', 'list.csv']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('subscribers: list.csv:3: topics: unknown topic "sport" (known: talks, protests, war)');
    expect(lines((await briefing(['subscribers', 'list'])).stdout)).toEqual([]);
  });

  it('refuses an unknown BRIEFING_DATABASE_URL scheme', async () => {
    const result = await briefing(['subscribers', 'list'], { BRIEFING_DATABASE_URL: 'mysql://db.example.org/briefing' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^config: BRIEFING_DATABASE_URL: unsupported scheme "mysql"/);
  });
});

if (await postgresAvailable()) {
  describe('briefing subscribers on PostgreSQL (BRIEFING_DATABASE_URL=postgres://…)', () => {
    it('moves a SQLite list to PostgreSQL with export and import', async () => {
      const target = await postgresFixture();
      try {
        write('list.csv', 'address,name\na@example.org,A\nb@example.org,B\n');
        await briefing(['subscribers', 'import', 'list.csv']);
        await briefing(['subscribers', 'add', 'c@example.org', '--status', 'pending']);
        write('export.csv', (await briefing(['subscribers', 'export'])).stdout);
        const postgres = { BRIEFING_DATABASE_URL: target.location.kind === 'postgres' ? target.location.url : '' };
        const imported = await briefing(['subscribers', 'import', 'export.csv'], postgres);
        expect(imported).toMatchObject({ code: 0, stdout: expect.stringContaining('imported 3,') });
        expect(await target.store.countSubscribers('pending')).toBe(1);
        expect((await briefing(['subscribers', 'list', '--json'], postgres)).stdout.replace(/"id":\d+,/g, '')).toBe(
          (await briefing(['subscribers', 'list', '--json'])).stdout.replace(/"id":\d+,/g, ''),
        );
      } finally {
        await target.cleanup();
      }
    });

    it('names the server, not the password, when PostgreSQL cannot be reached', async () => {
      const result = await briefing(['subscribers', 'list'], { BRIEFING_DATABASE_URL: 'postgres://briefing:s3cret@127.0.0.1:1/briefing' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^store: cannot open the PostgreSQL store postgres:\/\/briefing@127\.0\.0\.1:1\/briefing: /);
      expect(result.stderr).not.toContain('s3cret');
    });
  });
}
