import type { Readable } from 'node:stream';
import type { RunContext } from '../run/run-context.js';

export type { Clock } from '../run/run-context.js';

/**
 * What a command gets from the composition root (src/cli/main.ts): the run's real parts and the
 * command's output. Commands never read process.env, argv or globals themselves.
 */
export interface CliContext extends RunContext {
  /** Writes one line of command output to stdout. */
  print(line: string): void;
  /** Writes one line to stderr: a failure the command reports and goes on from (a watch's failed build). */
  printError(line: string): void;
  /** The process's standard input (what an MTA pipes to `briefing inbox --stdin`). */
  stdin(): Readable;
}

/** A command module in src/cli/commands/: its default export runs the command. */
export type CommandRunner<Options> = (context: CliContext, options: Options, args: string[]) => Promise<number | void>;
