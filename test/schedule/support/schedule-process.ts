import type { ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { openStoreAt } from '../../../src/store/open-store.js';
import type { EditionRecord, Store } from '../../../src/store/store.js';
import { createWorkspace, type Workspace } from '../../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../../support/smtp-test-server.js';

/** A running `briefing schedule` child with its JSON log lines. */
export interface ScheduleProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  /** The last part of what it printed (stdout and stderr), for failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `briefing schedule` in the workspace and collects its log lines (JSON on stderr, off a terminal). */
export function startSchedule(workspace: Workspace, env: Record<string, string>): ScheduleProcess {
  const child = workspace.start(['schedule'], env);
  const logs: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => text.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      text.push(`${line}\n`);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line (a crash trace): kept in the text only.
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, logs, output: () => (text.join('') + partial).slice(-6000), exited };
}

/** A scheduler test's workspace, SMTP server and store; `start` runs `briefing schedule` in it. */
export interface ScheduleScene {
  workspace: Workspace;
  server: SmtpTestServer;
  store: Store;
  start(env: Record<string, string>): ScheduleProcess;
}

/**
 * Registers the clean-up of every scene a test opens (children SIGKILLed if still running, store,
 * server and workspace removed) and returns the function that opens one.
 */
export function useScheduleScenes(): (options: Parameters<typeof createWorkspace>[0]) => Promise<ScheduleScene> {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return async (options) => {
    const workspace = await createWorkspace(options);
    cleanups.push(() => workspace.remove());
    const server = await startSmtpTestServer();
    cleanups.push(() => server.close());
    const store = await openWorkspaceStore(workspace);
    cleanups.push(() => store.close());
    const children: ScheduleProcess[] = [];
    cleanups.push(() => {
      for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    return {
      workspace,
      server,
      store,
      start: (env) => {
        const process = startSchedule(workspace, env);
        children.push(process);
        return process;
      },
    };
  };
}

/** Opens the workspace's store from the test (SQLite in WAL mode: readers do not block the children). */
export function openWorkspaceStore(workspace: Workspace): Promise<Store> {
  return openStoreAt({ kind: 'sqlite', file: workspace.databaseFile });
}

/** Polls until `condition` holds; `describe` says what was awaited and what the children said. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, describe: () => string, limitMs = 45_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > limitMs) throw new Error(`timed out: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The edition id as the Message-ID carries it (characters other than letters, digits and `-` become `-`). */
export function messageIdEdition(editionId: string): string {
  return editionId.replace(/[^A-Za-z0-9-]/g, '-');
}

/**
 * How many times the server accepted each subscriber's copy of an edition, read from the
 * Message-IDs (`<edition.subscriber.hash@list>`, the same for every attempt of one delivery).
 */
export function copiesPerSubscriber(server: SmtpTestServer, edition: EditionRecord): Map<number, number> {
  const prefix = `<${messageIdEdition(edition.id)}.`;
  const copies = new Map<number, number>();
  for (const [messageId, count] of server.counts) {
    if (!messageId.startsWith(prefix)) continue;
    const subscriber = Number(/^<[^.]+\.(\d+)\./.exec(messageId)?.[1]);
    copies.set(subscriber, (copies.get(subscriber) ?? 0) + count);
  }
  return copies;
}
