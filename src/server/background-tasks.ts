import type { Logger } from 'pino';

/** Work a request starts but does not wait for (recording a subscription, sending its confirmation email). */
export interface BackgroundTasks {
  /** Starts `task`; a failure is logged, never thrown at the request. */
  run(label: string, task: () => Promise<void>): void;
  /**
   * Starts `task` after `delayMs` (trying again what could not be done now), unless shutdown comes
   * first. False when too many tasks already wait: this one is not kept, so memory stays bounded.
   */
  later(label: string, delayMs: number, task: () => Promise<void>): boolean;
  /** Resolves when every task started or waiting so far has finished (and those they started). */
  idle(): Promise<void>;
  /** Drops the tasks still waiting (logged) and resolves when the running ones have finished: shutdown. */
  close(): Promise<void>;
}

/** Tasks waiting to start, at most: each holds a timer and its closure until then. */
export const MAX_WAITING_TASKS = 1_000;

/**
 * Keeps the promises of running tasks so shutdown can finish them. Doing the work after the response
 * keeps the subscribe answer equally fast whether or not the address was known or an email goes out,
 * so timing reveals nothing.
 */
export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  const running = new Set<Promise<void>>();
  const waiting = new Map<NodeJS.Timeout, string>();
  /** Callers of idle() waiting for a waiting task to start. */
  const watchers = new Set<() => void>();
  let closed = false;
  const run = (label: string, task: () => Promise<void>): void => {
    const promise = task()
      .catch((error: unknown) => logger.error({ err: error, task: label }, `server: ${label} failed`))
      .finally(() => running.delete(promise));
    running.add(promise);
  };
  return {
    run,
    later(label, delayMs, task) {
      if (closed || waiting.size >= MAX_WAITING_TASKS) return false;
      const timer = setTimeout(() => {
        waiting.delete(timer);
        run(label, task);
        for (const wake of watchers) wake();
        watchers.clear();
      }, delayMs);
      // A waiting retry never keeps the process alive: shutdown drops it.
      timer.unref();
      waiting.set(timer, label);
      return true;
    },
    async idle() {
      while (running.size > 0 || waiting.size > 0) {
        if (running.size > 0) await Promise.all([...running]);
        else await new Promise<void>((resolve) => watchers.add(resolve));
      }
    },
    async close() {
      closed = true;
      if (waiting.size > 0) {
        const byLabel: Record<string, number> = {};
        for (const label of waiting.values()) byLabel[label] = (byLabel[label] ?? 0) + 1;
        logger.warn({ tasks: byLabel }, `server: ${waiting.size} task(s) waiting to be tried again dropped at shutdown`);
      }
      for (const timer of waiting.keys()) clearTimeout(timer);
      waiting.clear();
      for (const wake of watchers) wake();
      watchers.clear();
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
