import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BriefingError } from '../../src/errors.js';
import { writeOutputFiles } from '../../src/output/write-output-files.js';
import { withoutPermissionOverride } from '../support/without-permission-override.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
let base: string;
let output: string;

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'briefing-write-'));
  output = path.join(base, 'output');
  mkdirSync(output);
});
afterEach(() => {
  chmodSync(output, 0o755);
  rmSync(base, { recursive: true, force: true });
});

/** Every file under a folder, temporary files included. */
function listAll(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)))
    .sort();
}

async function failureOf(promise: Promise<unknown>): Promise<BriefingError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BriefingError);
  return error as BriefingError;
}

describe('writeOutputFiles', () => {
  it('writes files in nested folders and reports them written', async () => {
    const result = await writeOutputFiles(output, new Map([
      ['feed.xml', '<rss/>'],
      ['archive/atom-1.xml', '<feed/>'],
      ['articles/é-1.html', Buffer.from('<p>é</p>')],
    ]));
    expect(result).toEqual({ written: ['feed.xml', 'archive/atom-1.xml', 'articles/é-1.html'], unchanged: [] });
    expect(readFileSync(path.join(output, 'articles/é-1.html'), 'utf8')).toBe('<p>é</p>');
    expect(listAll(output)).toEqual(['archive/atom-1.xml', 'articles/é-1.html', 'feed.xml']);
  });

  it('leaves a file with the same bytes alone (its mtime stays) and replaces one with new bytes', async () => {
    await writeOutputFiles(output, new Map([['same.xml', 'one'], ['changed.xml', 'old']]));
    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(path.join(output, 'same.xml'), past, past);
    utimesSync(path.join(output, 'changed.xml'), past, past);
    const result = await writeOutputFiles(output, new Map([['same.xml', 'one'], ['changed.xml', 'new']]));
    expect(result).toEqual({ written: ['changed.xml'], unchanged: ['same.xml'] });
    expect(statSync(path.join(output, 'same.xml')).mtime).toEqual(past);
    expect(statSync(path.join(output, 'changed.xml')).mtime).not.toEqual(past);
    expect(readFileSync(path.join(output, 'changed.xml'), 'utf8')).toBe('new');
    expect(listAll(output)).toEqual(['changed.xml', 'same.xml']);
  });

  it('replaces by rename, so a reader holding the old file keeps reading the old bytes', async () => {
    await writeOutputFiles(output, new Map([['feed.xml', 'old bytes']]));
    const before = statSync(path.join(output, 'feed.xml')).ino;
    await writeOutputFiles(output, new Map([['feed.xml', 'new bytes']]));
    expect(statSync(path.join(output, 'feed.xml')).ino).not.toBe(before);
  });

  it.each(['../escape.txt', '/etc/briefing.txt', 'articles/../../escape.txt', '..', '', 'a\0b', 'articles\\..\\..\\escape.txt'])(
    'refuses the path %j and writes nothing at all',
    async (bad) => {
      const error = await failureOf(writeOutputFiles(output, new Map([['fine.xml', 'x'], [bad, 'y']])));
      expect(error.stage).toBe('output');
      expect(error.code).toBe('unsafe-path');
      expect(listAll(base)).toEqual([]);
    },
  );

  it('refuses to write through a symbolic link that leads outside the output folder', async () => {
    const elsewhere = path.join(base, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(output, 'articles'));
    const error = await failureOf(writeOutputFiles(output, new Map([['articles/x.html', 'x']])));
    expect(error.code).toBe('unsafe-path');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('names the file when a file stands where its folder should be, and leaves that file as it was', async () => {
    writeFileSync(path.join(output, 'archive'), 'not a folder');
    const error = await failureOf(writeOutputFiles(output, new Map([['archive/feed-1.xml', 'x']])));
    expect(error.stage).toBe('output');
    expect(error.code).toBe('write-failed');
    expect(error.message).toMatch(/^output: cannot write .*output\/archive\/feed-1\.xml: a file stands where a folder on its path should be \((EEXIST|ENOTDIR)\)/);
    expect(readFileSync(path.join(output, 'archive'), 'utf8')).toBe('not a folder');
  });

  it('names the file when a folder stands where the file should be', async () => {
    mkdirSync(path.join(output, 'feed.xml'));
    const error = await failureOf(writeOutputFiles(output, new Map([['feed.xml', 'x']])));
    expect(error.message).toMatch(/cannot write .*output\/feed\.xml: a folder is in the way \(EISDIR\)/);
    expect(listAll(output)).toEqual([]);
  });

  it('fails with a clear error on a read-only output folder and leaves the previous files intact', async () => {
    // Root may write anywhere, so the writer runs without the capabilities that override permissions.
    const script = path.join(root, 'dist/output/write-output-files.js');
    expect(existsSync(script), 'run `npx tsc -p .` first: the child process loads dist/').toBe(true);
    writeFileSync(path.join(output, 'feed.xml'), 'previous feed');
    chmodSync(output, 0o555);
    const child = [
      `const { writeOutputFiles } = await import(${JSON.stringify(script)});`,
      `try { await writeOutputFiles(${JSON.stringify(output)}, new Map([['feed.xml', 'new feed'], ['atom.xml', 'new atom']])); console.log(JSON.stringify({ ok: true })); }`,
      'catch (error) { console.log(JSON.stringify({ stage: error.stage, code: error.code, message: error.message })); }',
    ].join('\n');
    const writer = withoutPermissionOverride(process.execPath, ['--input-type=module', '-e', child]);
    const { stdout } = await run(writer.command, writer.args, { cwd: tmpdir() });
    const outcome = JSON.parse(stdout) as { ok?: boolean; stage?: string; code?: string; message?: string };
    expect(outcome.ok).toBeUndefined();
    expect(outcome).toMatchObject({ stage: 'output', code: 'write-failed' });
    expect(outcome.message).toMatch(/^output: cannot write \S*output\/(feed|atom)\.xml: permission denied \(EACCES\); the previous file is left as it was$/);
    expect(readFileSync(path.join(output, 'feed.xml'), 'utf8')).toBe('previous feed');
    expect(listAll(output)).toEqual(['feed.xml']);
  });
});
