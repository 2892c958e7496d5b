import type { Logger } from 'pino';

/** Work a request starts but does not wait for (recording a subscription, sending its confirmation email). */
export interface BackgroundTasks {
  /** Starts `task`; a failure is logged, never thrown at the request. */
  run(label: string, task: () => Promise<void>): void;
  /** Resolves when every task started so far has finished: shutdown waits for this. */
  idle(): Promise<void>;
}

/**
 * Keeps the promises of running tasks so shutdown can finish them. Doing the work after the response
 * keeps the subscribe answer equally fast whether or not the address was known or an email goes out,
 * so timing reveals nothing.
 */
export function createBackgroundTasks(logger: Logger): BackgroundTasks {
  const running = new Set<Promise<void>>();
  return {
    run(label, task) {
      const promise = task()
        .catch((error: unknown) => logger.error({ err: error, task: label }, `server: ${label} failed`))
        .finally(() => running.delete(promise));
      running.add(promise);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
