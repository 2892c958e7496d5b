import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SqliteOptions } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { Transport } from '../delivery/transport.js';

/** Clock of the whole program; tests and the scheduler may inject another. */
export interface Clock {
  now(): Date;
}

/**
 * What a command gets from the composition root (src/cli/main.ts): configuration and factories for
 * the real parts. Commands never read process.env, argv or globals themselves.
 */
export interface CliContext {
  /** Loaded on first use, so `import` and `--help` do not need a valid config. */
  config(): Config;
  clock: Clock;
  logger: Logger;
  /** True when stdout is a terminal: progress bars instead of plain lines. */
  interactive: boolean;
  /** Writes one line of command output to stdout. */
  print(line: string): void;
  /** Opens the store chosen by BRIEFING_DATABASE_URL (SQLite by default); the caller closes it. */
  openStore(options?: SqliteOptions): Promise<Store>;
  /** SMTP pool from BRIEFING_SMTP_URL, or .eml files under output/outbox/<editionId>/. */
  createTransport(editionId: string): Promise<Transport>;
  /** Resolves when SIGTERM/SIGINT asks the program to stop taking new work. */
  stopSignal: AbortSignal;
}

/** A command module in src/cli/commands/: its default export runs the command. */
export type CommandRunner<Options> = (context: CliContext, options: Options, args: string[]) => Promise<number | void>;
