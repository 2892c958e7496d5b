/**
 * A throw-away publication for CLI tests: a copy of the configuration with its folders in a temp
 * directory (the repository's content/ copied in, its templates/ used in place), subscribers
 * written with the real store, and `node dist/cli/main.js` run against it as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStoreAt } from '../../src/store/open-store.js';

export const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(REPOSITORY, 'dist/cli/main.js');

export interface Workspace {
  root: string;
  configFile: string;
  databaseFile: string;
  /** Runs `briefing <args> --config <configFile>` with only the BRIEFING_* variables given, and `input` on its standard input. */
  run(args: readonly string[], env?: Record<string, string>, input?: Buffer): Promise<CliResult>;
  /** Starts the same without waiting, for tests that kill it. */
  start(args: readonly string[], env?: Record<string, string>, input?: 'pipe'): ChildProcess;
  remove(): void;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: this process's, without any BRIEFING_* variable it may carry. */
function childEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BRIEFING_')));
  return { ...clean, ...env };
}

/** Creates the workspace; `configure` may change the parsed configuration before it is written. */
export async function createWorkspace(options: { subscribers?: number; names?: (n: number) => string | null; configure?: (config: Record<string, unknown>) => void } = {}): Promise<Workspace> {
  const root = mkdtempSync(path.join(tmpdir(), 'briefing-cli-'));
  cpSync(path.join(REPOSITORY, 'content'), path.join(root, 'content'), { recursive: true });
  const config = JSON.parse(readFileSync(path.join(REPOSITORY, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
  config.paths = { content: 'content', templates: path.join(REPOSITORY, 'templates'), output: 'output', data: 'data' };
  delete config.sampleSubscribers;
  options.configure?.(config);
  const configFile = path.join(root, 'briefing.config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const databaseFile = path.join(root, 'data', 'briefing.db');
  const count = options.subscribers ?? 0;
  if (count > 0) {
    const store = await openStoreAt({ kind: 'sqlite', file: databaseFile });
    try {
      await store.addSubscribers(
        Array.from({ length: count }, (_, index) => ({ address: `reader${index + 1}@example.com`, name: options.names?.(index + 1) ?? null, status: 'active' as const, source: 'test' })),
        new Date(),
      );
    } finally {
      await store.close();
    }
  }
  const start = (args: readonly string[], env: Record<string, string> = {}, input?: 'pipe'): ChildProcess =>
    spawn(process.execPath, [MAIN, ...args, '--config', configFile], { cwd: root, env: childEnvironment(env), stdio: [input ?? 'ignore', 'pipe', 'pipe'] });
  return {
    root,
    configFile,
    databaseFile,
    start,
    run(args, env, input) {
      const child = start(args, env, input === undefined ? undefined : 'pipe');
      child.stdin?.end(input);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
      });
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
