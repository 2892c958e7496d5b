/**
 * The set-up both multi-sender tests share: a publication on a fresh PostgreSQL schema with active
 * subscribers, a real SMTP server, and `briefing send` processes started against them.
 */
import type { Store } from '../../../src/store/store.js';
import { createWorkspace, type Workspace } from '../../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../../support/smtp-test-server.js';
import { addReaders, freshSchema, killAll, watch, type PostgresSchema, type Running } from './postgres-publication.js';

/** The edition the repository's content fills. */
export const EDITION = '2025-07-23';

export interface SenderPublication {
  schema: PostgresSchema;
  /** The test's own connection to the schema, for reading what the children did. */
  store: Store;
  workspace: Workspace;
  server: SmtpTestServer;
  /** BRIEFING_DATABASE_URL (the schema), BRIEFING_SMTP_URL (the server) and a secret. */
  env: Record<string, string>;
  /** Starts `briefing send --date EDITION --json` processes at once. */
  startSenders(count: number): Running[];
  /** Kills children still running, stops the server, drops the schema, removes the workspace. */
  cleanup(): Promise<void>;
}

export async function createSenderPublication(options: {
  subscribers: number;
  concurrency: number;
  recordBatch: number;
  leaseSeconds: number;
}): Promise<SenderPublication> {
  const schema = await freshSchema();
  const workspace = await createWorkspace({
    configure: (config) => {
      config.delivery = {
        ...(config.delivery as object),
        concurrency: options.concurrency,
        recordBatch: options.recordBatch,
        batchSize: 100,
        leaseSeconds: options.leaseSeconds,
        retryBaseMs: 5,
        retryMaxMs: 50,
      };
    },
  });
  const server = await startSmtpTestServer();
  await addReaders(schema.fixture.store, options.subscribers);
  const env = { BRIEFING_DATABASE_URL: schema.url, BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: 'scale-out-test-secret-0123456789' };
  const running: Running[] = [];
  return {
    schema,
    store: schema.fixture.store,
    workspace,
    server,
    env,
    startSenders(count) {
      const senders = Array.from({ length: count }, () => watch(workspace.start(['send', '--date', EDITION, '--json'], env)));
      running.push(...senders);
      return senders;
    },
    async cleanup() {
      killAll(running);
      await server.close();
      await schema.fixture.cleanup();
      workspace.remove();
    },
  };
}
