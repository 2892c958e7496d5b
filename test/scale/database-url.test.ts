import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { postgresAvailable, POSTGRES_TEST_URL } from '../store/store-fixtures.js';
import { freshSchema, killAll, readerAddress, waitFor, watch, writeSubscriberCsv, type PostgresSchema, type Running } from './support/postgres-publication.js';

/** The edition the repository's content fills. */
const DATE = '2025-07-23';
const SUBSCRIBERS = 40;
const SECRET = 'database-url-test-secret-0123456789';
/** A dozen CLI processes, in five rounds, while the suite runs beside them on two cores. */
const COMMANDS_TIMEOUT_MS = 90_000;

let schema: PostgresSchema | undefined;
let workspace: Workspace | undefined;
const running: Running[] = [];

afterEach(async () => {
  killAll(running.splice(0));
  await schema?.fixture.cleanup();
  workspace?.remove();
  schema = undefined;
  workspace = undefined;
});

/** Runs one command and requires exit 0, showing its stderr otherwise. */
async function ok(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await workspace!.run(args, env);
  expect(result.code, `briefing ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

// In CI (CI=true) postgresAvailable throws when the server is missing: this file fails, never skips.
if (await postgresAvailable()) {
  describe('BRIEFING_DATABASE_URL=postgres://…', () => {
    it('every command that uses the store works on the PostgreSQL schema it names, and none creates the SQLite file', async () => {
      schema = await freshSchema();
      workspace = await createWorkspace();
      const store = schema.fixture.store;
      const env = { BRIEFING_DATABASE_URL: schema.url, BRIEFING_SECRET: SECRET };
      const sqliteFile = path.join(workspace.root, 'data', 'briefing.db');

      expect(JSON.parse(await ok(['subscribers', 'import', writeSubscriberCsv(workspace, SUBSCRIBERS), '--json'], env))).toMatchObject({ imported: SUBSCRIBERS, errors: 0 });
      await Promise.all([ok(['subscribers', 'add', 'extra@example.org', '--name', 'Extra Reader'], env), ok(['subscribers', 'remove', readerAddress(SUBSCRIBERS)], env)]);
      expect(await store.countSubscribers('active')).toBe(SUBSCRIBERS);
      expect(await store.findSubscriber(readerAddress(SUBSCRIBERS))).toBeUndefined();

      // Read-only commands at once: the list, the export, a preview and a dry run all see the schema's list.
      const [list, exported, preview, dryRun] = await Promise.all([
        ok(['subscribers', 'list', '--json'], env),
        ok(['subscribers', 'export'], env),
        ok(['preview', '--date', DATE, '--json'], env),
        ok(['send', '--date', DATE, '--dry-run', '--json'], env),
      ]);
      expect(jsonLines(list).map((subscriber) => subscriber.address)).toContain('extra@example.org');
      expect(jsonLines(list)).toHaveLength(SUBSCRIBERS);
      expect(exported.trim().split('\n')).toHaveLength(SUBSCRIBERS + 1);
      expect(exported).toContain('Extra Reader');
      expect(JSON.parse(preview)).toMatchObject({ edition: DATE });
      expect(JSON.parse(dryRun)).toMatchObject({ edition: DATE, dryRun: true, recipients: SUBSCRIBERS });

      // The send (to .eml files: no SMTP server here) records the edition and its deliveries in the schema.
      expect(JSON.parse(await ok(['send', '--date', DATE, '--json'], env))).toMatchObject({ complete: true, counts: { sent: SUBSCRIBERS, failed: 0 } });
      expect((await store.getEdition(DATE))?.status).toBe('sent');
      expect(await store.deliveryCounts(DATE)).toEqual({ queued: 0, sending: 0, sent: SUBSCRIBERS, failed: 0, skipped: 0 });

      // Then at once: `status` reads the send back, `run` plans today's edition, `serve` keeps a web sign-up.
      const server = watch(workspace.start(['serve', '--port', '0'], env));
      running.push(server);
      const [status, run] = await Promise.all([ok(['status', '--date', DATE, '--json'], env), ok(['run', '--json'], env)]);
      expect(JSON.parse(status)).toMatchObject({ edition: DATE, status: 'sent', counts: { sent: SUBSCRIBERS } });
      expect(await store.getEdition((JSON.parse(run) as { edition: string }).edition)).toBeDefined();
      const url = await waitFor(() => /listening on (\S+)/.exec(server.output())?.[1], () => server.output());
      expect((await fetch(new URL('healthz', url))).status).toBe(200);
      const signUp = await fetch(new URL('subscribe', url), { method: 'POST', body: new URLSearchParams({ address: 'web@example.org' }) });
      expect(signUp.status).toBe(200);
      // The sign-up is stored just after the answer (so its timing tells nothing): wait for it.
      expect(await waitFor(async () => (await store.findSubscriber('web@example.org'))?.status, () => server.output(), 5_000)).toBe('pending');
      server.child.kill('SIGTERM');
      expect((await server.finished).code, server.output()).toBe(0);

      expect(existsSync(sqliteFile)).toBe(false);
    }, COMMANDS_TIMEOUT_MS);

    it('a PostgreSQL URL that does not answer is an error naming the server, never a fallback to SQLite', async () => {
      workspace = await createWorkspace();
      const result = await workspace.run(['subscribers', 'list'], { BRIEFING_DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/test' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('cannot open the PostgreSQL store postgres://postgres@127.0.0.1:1/test');
      expect(result.stderr).not.toContain('hunter2');
      expect(existsSync(path.join(workspace.root, 'data', 'briefing.db'))).toBe(false);
    });
  });
} else {
  describe.skip(`BRIEFING_DATABASE_URL=postgres://… (no server at ${POSTGRES_TEST_URL})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
}
