import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSite } from '../../src/run/build-site.js';
import { loadConfig } from '../../src/config.js';
import { createWorkspace, REPOSITORY, type Workspace } from '../support/cli-workspace.js';
import { fillerName, fillerRecord, writeFillers } from './support/filler.js';
import { canMount, mountTmpfs, type Tmpfs } from './support/mounts.js';
import { isTemporary, listFiles, outputSnapshot, problemsOfOutput } from './support/output-check.js';
import { EDITION, SECRET } from './support/publication.js';
import { scale } from './support/seeded.js';
import { startServe } from './support/serve.js';

const BUILDS = scale(10, 60);
const FEEDS = ['feed.xml', 'atom.xml', 'feed.json'];
const MAIN = path.join(REPOSITORY, 'dist/cli/main.js');

let workspace: Workspace | undefined;
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  workspace?.remove();
  workspace = undefined;
});

const digest = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Polls files in a worker thread (true parallelism with the builds), as fast as it can, and hands
 * back every distinct content it saw. Over HTTP it also keeps which ETag came with which body.
 */
interface Seen {
  reads: number;
  missing: number;
  versions: Array<{ file: string; hash: string; bytes: Uint8Array }>;
  etags: Array<{ file: string; etag: string; hash: string }>;
  errors: string[];
}

const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
// [0]: stop when set; [1]: reads so far, for a writer that waits for the reader to keep up.
const flag = new Int32Array(workerData.flag);
const seen = { reads: 0, missing: 0, versions: [], etags: [], errors: [] };
const known = new Set();
const keep = (file, bytes) => {
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (!known.has(file + hash)) { known.add(file + hash); seen.versions.push({ file, hash, bytes }); }
  return hash;
};
(async () => {
  while (Atomics.load(flag, 0) === 0) {
    for (const file of workerData.files) {
      if (workerData.url) {
        try {
          const response = await fetch(workerData.url + file, { headers: { 'accept-encoding': 'identity' } });
          const bytes = Buffer.from(await response.arrayBuffer());
          seen.reads += 1;
          if (response.status !== 200) { seen.errors.push(file + ': HTTP ' + response.status); continue; }
          const hash = keep(file, bytes);
          const etag = response.headers.get('etag') || '';
          if (!known.has(file + etag + hash)) { known.add(file + etag + hash); seen.etags.push({ file, etag, hash }); }
        } catch (error) { seen.errors.push(file + ': ' + error.message); }
      } else {
        try { keep(file, readFileSync(workerData.folder + '/' + file)); seen.reads += 1; Atomics.add(flag, 1, 1); }
        catch (error) { if (error.code === 'ENOENT') seen.missing += 1; else seen.errors.push(file + ': ' + error.code); }
      }
    }
  }
  parentPort.postMessage(seen);
})();
`;

function startReader(options: { folder?: string; url?: string; files: readonly string[] }): { reads(): number; stop(): Promise<Seen> } {
  const flag = new SharedArrayBuffer(8);
  const worker = new Worker(READER, { eval: true, workerData: { ...options, flag } });
  const result = new Promise<Seen>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    reads: () => Atomics.load(new Int32Array(flag), 1),
    async stop() {
      Atomics.store(new Int32Array(flag), 0, 1);
      const seen = await result;
      await worker.terminate();
      return seen;
    },
  };
}

/** The fillers whose dates put them in the subscription feeds (the newest of June). */
const NEWEST_FILLERS = [27, 26, 25, 24, 23, 22, 21, 20];

describe('output/ is replaced atomically', () => {
  it(`a reader polling the feeds on disk and over HTTP during ${BUILDS} builds only ever sees whole files`, async () => {
    workspace = await createWorkspace();
    const content = path.join(workspace.root, 'content');
    // Long stories: the feeds carry their full text, so each feed is a few hundred KB.
    writeFillers(content, 30, 60);
    const config = loadConfig(workspace.configFile, { BRIEFING_SECRET: SECRET });
    const output = config.paths.output;
    await buildSite(config);
    const written = new Map<string, Set<string>>(FEEDS.map((file) => [file, new Set([digest(readFileSync(path.join(output, file)))])]));
    const served = await startServe(workspace.configFile, { BRIEFING_SECRET: SECRET });
    cleanups.push(() => served.stop());
    const disk = startReader({ folder: output, files: FEEDS });
    const http = startReader({ url: served.url, files: FEEDS });

    for (let build = 1; build <= BUILDS; build += 1) {
      for (const n of NEWEST_FILLERS.slice(0, 1 + (build % 4))) writeFileSync(path.join(content, fillerName(n)), fillerRecord(n, build, 60));
      await buildSite(config);
      for (const file of FEEDS) written.get(file)?.add(digest(readFileSync(path.join(output, file))));
    }
    const [onDisk, overHttp] = [await disk.stop(), await http.stop()];

    for (const seen of [onDisk, overHttp]) {
      expect(seen.errors).toEqual([]);
      expect(seen.missing).toBe(0);
      for (const version of seen.versions) {
        expect(written.get(version.file)?.has(version.hash), `${version.file}: a version no build wrote (${version.bytes.length} bytes)`).toBe(true);
      }
      // The readers kept up: they saw several of the versions the builds wrote.
      for (const file of FEEDS) expect(seen.versions.filter((version) => version.file === file).length).toBeGreaterThan(1);
    }
    // An ETag names one body only.
    const bodyOf = new Map<string, string>();
    for (const { file, etag, hash } of overHttp.etags) {
      expect(bodyOf.get(file + etag) ?? hash, `${file} ${etag}`).toBe(hash);
      bodyOf.set(file + etag, hash);
    }
    expect(problemsOfOutput(output)).toEqual([]);
    expect(listFiles(output).filter(isTemporary)).toEqual([]);
    console.info(
      `atomic output: ${BUILDS} builds, ${[...written.values()].reduce((sum, set) => sum + set.size, 0)} feed versions written; ` +
        `disk reader ${onDisk.reads} reads / ${onDisk.versions.length} versions, HTTP reader ${overHttp.reads} reads / ${overHttp.versions.length} versions, none partial`,
    );
  });

  it('the same reader catches a writer that is not atomic (the check can fail)', async () => {
    workspace = await createWorkspace();
    const folder = path.join(workspace.root, 'naive');
    mkdirSync(folder);
    const versions = ['a', 'b'].map((letter) => Buffer.from(`<feed>${letter.repeat(1 << 20)}</feed>`));
    writeFileSync(path.join(folder, 'feed.xml'), versions[0] as Buffer);
    const reader = startReader({ folder, files: ['feed.xml'] });
    // In place: truncate, then write; a reader may find the file empty or half written. On a busy
    // machine the reader thread may start late: the writes go on until it has read a few hundred times.
    const deadline = Date.now() + 20_000;
    for (let write = 0; write < 100 || (reader.reads() < 300 && Date.now() < deadline); write += 1) {
      writeFileSync(path.join(folder, 'feed.xml'), versions[write % 2] as Buffer);
    }
    const seen = await reader.stop();
    const whole = new Set(versions.map(digest));
    expect(seen.versions.filter((version) => !whole.has(version.hash)).length).toBeGreaterThan(0);
  });
});

/** The files readers get: not the build's notes (its manifest, and the pending list a failed build leaves for the next one). */
const published = (file: string): boolean => file !== '.build-manifest.json' && file !== '.build-pending.json';

describe('a full disk or a read-only output/', () => {
  let disk: Tmpfs | undefined;
  afterEach(() => {
    disk?.unmount();
    disk = undefined;
  });

  /** A workspace whose output/ is on a fresh tmpfs of `bytes`, built once. */
  async function onTmpfs(bytes: number): Promise<{ output: string; env: Record<string, string> }> {
    workspace = await createWorkspace({ subscribers: 30, configure: (config) => (config.paths = { ...(config.paths as object), output: 'disk/output' }) });
    disk = mountTmpfs(workspace.root, bytes);
    const env = { BRIEFING_SECRET: SECRET };
    const first = await workspace.run(['build'], env);
    expect(first.code, first.stderr).toBe(0);
    return { output: path.join(disk.dir, 'output'), env };
  }

  it.skipIf(!canMount)('a full disk (tmpfs) fails the build with a clear error and leaves the previous files intact', async () => {
    const { output, env } = await onTmpfs(256 << 10);
    const before = outputSnapshot(output, published);
    // A story of 400 KB cannot fit on a disk of 256 KB.
    writeFileSync(path.join(workspace!.root, 'content', '2025-07-23-huge.md'), fillerRecord(999, 0, 1500).replace('2025-06', '2025-07'));
    const run = await workspace!.run(['build'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^output: cannot write disk\/output\/\S+: the disk is full \(ENOSPC\); the previous file is left as it was\n$/);
    expect(outputSnapshot(output, published)).toEqual(before);
    expect(listFiles(output).filter(isTemporary)).toEqual([]);
  });

  it('a file-size limit (ulimit -f, EFBIG) fails the build with a clear error and leaves the previous files intact', async () => {
    workspace = await createWorkspace();
    const env = { BRIEFING_SECRET: SECRET };
    expect((await workspace.run(['build'], env)).code).toBe(0);
    const output = path.join(workspace.root, 'output');
    const before = outputSnapshot(output, published);
    writeFileSync(path.join(workspace.root, 'content', '2025-07-23-huge.md'), fillerRecord(999, 0, 1500).replace('2025-06', '2025-07'));
    // 128 KB per file at most (ulimit counts 1024-byte blocks); Node ignores SIGXFSZ, so the write fails with EFBIG.
    const limited = spawnSync('sh', ['-c', 'ulimit -f 128 && exec "$0" "$@"', process.execPath, MAIN, 'build', '--config', workspace.configFile], {
      cwd: workspace.root,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    expect(limited.status).toBe(1);
    expect(limited.stderr).toMatch(/^output: cannot write output\/articles\/2025-07-23-huge\.html: the file system refused \(EFBIG\); the previous file is left as it was\n$/);
    expect(outputSnapshot(output, published)).toEqual(before);
    expect(listFiles(output).filter(isTemporary)).toEqual([]);
  });

  it.skipIf(!canMount)('a read-only output/ (tmpfs remounted ro) fails the build with a clear error and changes nothing', async () => {
    const { output, env } = await onTmpfs(4 << 20);
    const before = outputSnapshot(output);
    writeFileSync(path.join(workspace!.root, 'content', fillerName(1)), fillerRecord(1));
    disk!.readOnly(true);
    const run = await workspace!.run(['build'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^output: cannot write disk\/output\/\S+: the file system is read-only \(EROFS\); the previous file is left as it was\n$/);
    expect(outputSnapshot(output)).toEqual(before);
  });

  it.skipIf(!canMount)('a disk that fills up while .eml files are written stops the send with the messages still queued; --resume finishes once there is room', async () => {
    const { output, env } = await onTmpfs(1 << 20);
    const used = Object.keys(outputSnapshot(output)).length;
    expect(used).toBeGreaterThan(0);
    // Room for a few messages only.
    const free = Number(spawnSync('df', ['--output=avail', '-B1', disk!.dir], { encoding: 'utf8' }).stdout.split('\n')[1]);
    writeFileSync(path.join(disk!.dir, 'ballast'), Buffer.alloc(Math.max(0, free - 200_000)));
    const stopped = await workspace!.run(['send', '--date', EDITION, '--json'], env);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/^delivery: cannot write disk\/output\/outbox\/2025-07-23\b.*\bENOSPC\b.*the undelivered messages stay queued: run `briefing send --resume --date 2025-07-23` once it is fixed\n$/);
    const status = await workspace!.run(['status', '--date', EDITION, '--json'], env);
    const counts = (JSON.parse(status.stdout) as { counts: Record<string, number> }).counts;
    expect(counts).toMatchObject({ failed: 0, sending: 0 });
    expect(counts.queued).toBeGreaterThan(0);
    const outbox = path.join(output, 'outbox', EDITION);
    expect(listFiles(outbox).filter(isTemporary)).toEqual([]);

    disk!.resize(8 << 20);
    const resumed = await workspace!.run(['send', '--date', EDITION, '--resume', '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ complete: true, counts: { sent: 30, queued: 0, failed: 0 } });
    expect(listFiles(outbox)).toEqual(Array.from({ length: 30 }, (_, index) => `${index + 1}.eml`).sort());
  });
});
