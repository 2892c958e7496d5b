import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArticles } from '../../src/content/load-articles.js';
import { RAW_TEXTS } from '../support/outside-material.js';
import { testRecordLimit, testTopics } from './helpers.js';

const ROOT = path.resolve('.');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const CONFIG = path.join(ROOT, 'briefing.config.json');
const PREVIEW = RAW_TEXTS.preview;
const WRAP = RAW_TEXTS.result;
const SOURCE = 'Harbourview Ledger';
const PREVIEW_RECORD = 'records/2025-09-16-harbourview-council-to-vote-on-eastern-tram-line-after-two.md';
const WRAP_RECORD = 'records/2025-09-16-harbourview-council-backs-eastern-tram-line-by-one-vote.md';

let work: string;

/** Runs the built CLI in the work folder; `npm test` compiles dist/ first. */
function briefing(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args, '--config', CONFIG], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  expect(existsSync(MAIN), 'dist/cli/main.js is built (npx tsc -p .)').toBe(true);
  work = await mkdtemp(path.join(tmpdir(), 'briefing-import-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('briefing import', () => {
  it('imports what it can, and fails with exit 1 naming the text that needs --published', async () => {
    const result = await briefing('import', PREVIEW, WRAP, '--out', 'records', '--source', SOURCE);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`written ${PREVIEW_RECORD}\n`);
    expect(result.stderr).toContain('import: 1 of 2 files not imported');
    expect(result.stderr).toContain(`import: ${WRAP}:3: Published: the text has no "Published:" line: a date is needed (give --published, e.g. 2025-07-31T18:02-04:00 or "July 31, 2025 6:02 PM EDT")`);
    expect(result.stderr).toContain('add `sourceUrl:` by hand');
    expect(await readdir(path.join(work, 'records'))).toEqual([path.basename(PREVIEW_RECORD)]);
  });

  it('imports the text without a date with --published', async () => {
    const result = await briefing('import', WRAP, '--out', 'records', '--published', '2025-09-16T22:45:00', '--source', SOURCE);
    expect(result).toMatchObject({ code: 0, stdout: `written ${WRAP_RECORD}\n` });
    const text = await readFile(path.join(work, WRAP_RECORD), 'utf8');
    expect(text).toMatch(/^---\ntitle: Harbourview council backs eastern tram line by one vote/);
    expect(text).toContain('\npublished: 2025-09-16T22:45:00+03:00\n');
  });

  it('writes records that load', async () => {
    const articles = await loadArticles({ dir: path.join(work, 'records'), topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: 'Europe/Kyiv' });
    expect(articles.map((article) => article.source)).toEqual([SOURCE, SOURCE]);
  });

  it('leaves an identical record alone and reports it unchanged, as JSON when asked', async () => {
    const result = await briefing('import', PREVIEW, '--out', 'records', '--source', SOURCE, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ input: PREVIEW, file: PREVIEW_RECORD, status: 'unchanged' });
  });

  it('never overwrites a record that differs, and exits 1', async () => {
    const file = path.join(work, PREVIEW_RECORD);
    const edited = (await readFile(file, 'utf8')).replace(`source: ${SOURCE}`, `source: ${SOURCE} (edited)`);
    await writeFile(file, edited);
    const result = await briefing('import', PREVIEW, '--out', 'records', '--source', SOURCE);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`exists ${PREVIEW_RECORD}\n`);
    expect(result.stderr).toContain(`import: ${PREVIEW_RECORD}: a different record with this id exists: not overwritten (imported from ${PREVIEW})`);
    expect(await readFile(file, 'utf8')).toBe(edited);
    expect((await readdir(path.join(work, 'records'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a file it cannot read', async () => {
    const result = await briefing('import', 'missing.txt', '--out', 'records', '--source', 'Test Desk');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('import: missing.txt: cannot read: ENOENT');
  });

  it('refuses a text whose record the build would refuse (over content.maxRecordBytes, 2,000,000 here) naming the file, and writes nothing', async () => {
    const raw = await readFile(PREVIEW, 'utf8');
    const paragraph = 'The council heard seventy more speakers on the tram line today and tomorrow.\n\n';
    const padded = (bytes: number): string => raw + paragraph.repeat(Math.ceil((bytes - raw.length) / paragraph.length)).slice(0, bytes - Buffer.byteLength(raw));
    await writeFile(path.join(work, 'huge.txt'), padded(50_000_000));
    // Under the limit as text, over it once front matter is added.
    await writeFile(path.join(work, 'nearly.txt'), padded(1_999_900));
    const result = await briefing('import', 'huge.txt', 'nearly.txt', '--out', 'big-records', '--source', SOURCE);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('import: huge.txt: the text is more than 2000000 bytes, over the limit of 2000000 (content.maxRecordBytes); split the text or raise the limit');
    expect(result.stderr).toMatch(/import: nearly\.txt: the record would be 2000\d{3} bytes, over the limit of 2000000 \(content\.maxRecordBytes\)/);
    expect(result.stderr).not.toContain('    at ');
    expect(await readdir(path.join(work, 'big-records'))).toEqual([]);
  });

  it('refuses a text that is not UTF-8, naming the file and the line of its first foreign byte, and writes nothing', async () => {
    const raw = await readFile(PREVIEW);
    await writeFile(path.join(work, 'latin1.txt'), Buffer.concat([Buffer.from('Caf'), Buffer.from([0xe9]), Buffer.from(' talks\n'), raw]));
    const result = await briefing('import', 'latin1.txt', '--out', 'latin1-records', '--source', SOURCE);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('import: latin1.txt:1: is not UTF-8 text (byte 0xE9): save it as UTF-8');
    expect(result.stderr).not.toContain('    at ');
    expect(await readdir(path.join(work, 'latin1-records'))).toEqual([]);
  });

  it('refuses a --published that is not a date, with exit 1 and no stack', async () => {
    const result = await briefing('import', WRAP, '--out', 'records', '--source', 'Test Desk', '--published', 'tomorrow');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--published: "tomorrow" is not an ISO 8601 date-time');
    expect(result.stderr).not.toContain('    at ');
  });

  it('describes its options in --help', async () => {
    const result = await briefing('import', '--help');
    expect(result.code).toBe(0);
    for (const option of ['--published <iso>', '--source <name>', '--out <dir>', '--json']) {
      expect(result.stdout).toContain(option);
    }
  });
});
