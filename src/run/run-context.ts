import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DkimSigner } from '../delivery/dkim.js';
import type { MjmlRendererAhead } from '../email/compile-mjml.js';
import type { Transport } from '../delivery/transport.js';
import type { SqliteOptions } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';

/** Clock of the whole program; tests and the scheduler may inject another. */
export interface Clock {
  now(): Date;
}

/**
 * The real parts a use case works with, built by the composition root (src/cli/main.ts): the run
 * modules never read process.env, argv or globals themselves.
 */
export interface RunContext {
  /** Loaded on first use, so `import` and `--help` do not need a valid config. */
  config(): Config;
  clock: Clock;
  logger: Logger;
  /** True when stdout is a terminal: progress bars instead of plain lines. */
  interactive: boolean;
  /** Opens the store chosen by BRIEFING_DATABASE_URL (SQLite by default); the caller closes it. */
  openStore(options?: SqliteOptions): Promise<Store>;
  /** SMTP pool from BRIEFING_SMTP_URL, or .eml files under output/outbox/<editionId>/. */
  createTransport(editionId: string): Promise<Transport>;
  /** The DKIM signer of the configuration, built once; undefined when DKIM is not configured. */
  dkim(): DkimSigner | undefined;
  /** The MJML renderer of the command's render, maybe started ahead (see mjmlRendererAhead): a use case that will not render releases it. */
  mjml: MjmlRendererAhead;
  /** Resolves when SIGTERM/SIGINT asks the program to stop taking new work. */
  stopSignal: AbortSignal;
}
