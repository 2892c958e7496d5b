/**
 * Scale-out tests run the real CLI against a fresh PostgreSQL schema: each test gets its own schema
 * in the database `test` (selected by `?options=-c search_path=…` in BRIEFING_DATABASE_URL, as a
 * child process sees it) and a throw-away publication workspace per "machine".
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../../../src/store/store.js';
import type { Workspace } from '../../support/cli-workspace.js';
import { postgresFixture, type StoreFixture } from '../../store/store-fixtures.js';

/** A fresh schema, the store the test reads it with, and the URL children get. */
export interface PostgresSchema {
  fixture: StoreFixture;
  /** BRIEFING_DATABASE_URL of the children: the test database with this schema on the search path. */
  url: string;
}

/** Creates a uniquely named schema (dropped by `fixture.cleanup()`). */
export async function freshSchema(): Promise<PostgresSchema> {
  const fixture = await postgresFixture();
  if (fixture.location.kind !== 'postgres') throw new Error('postgresFixture gave a non-PostgreSQL location');
  return { fixture, url: fixture.location.url };
}

/** The address of subscriber number `n` (1-based): ids follow the import order on a fresh schema. */
export function readerAddress(n: number): string {
  return `reader${n}@example.com`;
}

/** Adds `count` active subscribers straight into the store (faster than a CLI import; the CSV path is tested on its own). */
export async function addReaders(store: Pick<Store, 'addSubscribers'>, count: number): Promise<void> {
  const readers = Array.from({ length: count }, (_, index) => ({ address: readerAddress(index + 1), name: `Reader ${index + 1}`, status: 'active' as const, source: 'test' }));
  await store.addSubscribers(readers, new Date());
}

/** Writes `count` subscribers as a CSV into the workspace, for `briefing subscribers import`. */
export function writeSubscriberCsv(workspace: Workspace, count: number, name = 'subscribers.csv'): string {
  const lines = ['address,name', ...Array.from({ length: count }, (_, index) => `${readerAddress(index + 1)},Reader ${index + 1}`)];
  const file = path.join(workspace.root, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A child's exit and everything it printed. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A started child whose output is collected as it runs. */
export interface Running {
  child: ChildProcess;
  output(): string;
  finished: Promise<Finished>;
}

/** Collects a child's output from the start, so a crash trace is never lost. */
export function watch(child: ChildProcess): Running {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const text = (): Omit<Finished, 'code' | 'signal'> => ({ stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
  return {
    child,
    output: () => {
      const { stdout: out, stderr: err } = text();
      return `--- pid ${child.pid} stdout\n${out}--- stderr\n${err}`;
    },
    finished: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal, ...text() }));
    }),
  };
}

/** Kills what is still running (after a failed assertion), by the children's own ids. */
export function killAll(running: readonly Running[]): void {
  for (const { child } of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Polls until `probe` gives a value; `describe` says what was awaited and what the children said. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, describe: () => string, limitMs = 45_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > limitMs) throw new Error(`timed out after ${limitMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The pid of a worker id (`host:pid:random`, see workerId in src/delivery/send-edition.ts). */
export function workerPid(worker: string | null): number | undefined {
  const parts = (worker ?? '').split(':');
  const pid = Number(parts[parts.length - 2]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Log lines (pino JSON on stderr) at warning level or above: a lease not renewed, a deadlock retried… */
export function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => {
    try {
      return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 40;
    } catch {
      return false;
    }
  });
}
