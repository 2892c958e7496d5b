/**
 * A store that cannot work (a full disk, a damaged or truncated file) is an operating condition:
 * one clear line naming the file and what to do, exit 1, never a stack trace; and the send resumes
 * once it is fixed.
 */
import { closeSync, copyFileSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, type CliResult, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';
import { canMount, mountTmpfs, type Tmpfs } from './support/mounts.js';

const DATE = '2025-07-23';
const SECRET = 'store-faults-test-secret-0123';

let workspace: Workspace | undefined;
let server: SmtpTestServer | undefined;
let disk: Tmpfs | undefined;

afterEach(async () => {
  disk?.unmount();
  await server?.close();
  workspace?.remove();
  disk = undefined;
  server = undefined;
  workspace = undefined;
});

/** What the command said to the operator: stderr without its JSON log records. */
function messages(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
}

function expectOneClearLine(result: CliResult, pattern: RegExp): void {
  expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
  expect(messages(result)).toEqual([expect.stringMatching(pattern)]);
  expect(result.code).toBe(1);
}

describe('a damaged store file', () => {
  it('refuses a zero-length briefing.db (a truncated store) instead of silently starting an empty one', async () => {
    workspace = await createWorkspace();
    const db = workspace.databaseFile;
    // An empty briefing.db, as a truncated copy or a restore onto a full disk leaves it.
    mkdirSync(path.dirname(db), { recursive: true });
    writeFileSync(db, '');
    for (const args of [['send', '--date', DATE], ['subscribers', 'list']]) {
      const result = await workspace.run(args);
      expectOneClearLine(result, /^store: \S*briefing\.db is an empty file \(0 bytes\), not a SQLite store: restore it from a backup, or delete it to start an empty store$/);
    }
    expect(statSync(db).size).toBe(0);
  });

  it('still creates the store when briefing.db does not exist', async () => {
    workspace = await createWorkspace();
    const result = await workspace.run(['subscribers', 'add', 'first@example.org']);
    expect(result).toMatchObject({ code: 0, stdout: 'created first@example.org (active)\n' });
  });

  it('a file of garbage bytes in place of briefing.db gives one line and exit 1, not a stack trace', async () => {
    workspace = await createWorkspace({ subscribers: 3 });
    writeFileSync(workspace.databaseFile, Buffer.alloc(64 * 1024, 'not a database, just garbage '));
    const result = await workspace.run(['send', '--date', DATE]);
    expectOneClearLine(result, /^store: \S*briefing\.db is not a readable SQLite store \(SQLITE_NOTADB\): restore it from a backup, or move it aside to start an empty store$/);
  });

  it('a store whose pages were overwritten after its header (a malformed database) gives one line and exit 1', async () => {
    workspace = await createWorkspace({ subscribers: 300 });
    const file = workspace.databaseFile;
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    try {
      // Page 1 (the header and schema) stays; every page after it is noise.
      const noise = Buffer.alloc(size - 4096);
      for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 131 + 7) & 0xff;
      writeSync(fd, noise, 0, noise.length, 4096);
    } finally {
      closeSync(fd);
    }
    const result = await workspace.run(['send', '--date', DATE]);
    expectOneClearLine(result, /^store: \S*briefing\.db is not a readable SQLite store \((?:SQLITE_CORRUPT\w*|SQLITE_NOTADB)\): restore it from a backup, or move it aside to start an empty store$/);
  });
});

describe('a full disk under the store', () => {
  it.skipIf(!canMount)('a send whose store disk fills (tmpfs) ends in one clear line, exit 1; resumed on a bigger disk it delivers everyone', async () => {
    const subscribers = 300;
    workspace = await createWorkspace({ subscribers, configure: (config) => (config.delivery = { ...(config.delivery as object), batchSize: 20, recordBatch: 4 }) });
    server = await startSmtpTestServer();
    // The store on a tmpfs with a little room beyond its file: the outbox and its log fill it mid-send.
    const bytes = statSync(workspace.databaseFile).size;
    disk = mountTmpfs(workspace.root, Math.ceil((bytes + 96 * 1024) / 4096) * 4096);
    const onDisk = path.join(disk.dir, 'briefing.db');
    copyFileSync(workspace.databaseFile, onDisk);
    const env = { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: SECRET, BRIEFING_DATABASE_URL: `sqlite:${onDisk}` };

    const full = await workspace.run(['send', '--date', DATE], env);
    expectOneClearLine(full, /^store: the disk holding the SQLite store \S*briefing\.db is full \(SQLITE_FULL\): free some space, then run the command again \(a send resumes where it stopped\)$/);
    expect(server.counts.size).toBeLessThan(subscribers);

    disk.resize(64 * 1024 * 1024);
    const resumed = await workspace.run(['send', '--date', DATE], env);
    expect(resumed.stderr).not.toMatch(/unexpected error/);
    expect(resumed.code).toBe(0);
    expect(server.counts.size).toBe(subscribers);
    const status = JSON.parse((await workspace.run(['status', '--date', DATE, '--json'], env)).stdout) as { counts: Record<string, number> };
    expect(status.counts).toEqual({ queued: 0, sending: 0, sent: subscribers, failed: 0, skipped: 0 });
  });
});
