import type { FireSource, SchedulerClock, Timer } from '../../../src/schedule/scheduler.js';

/** Lets pending promise callbacks and I/O callbacks run. */
export async function settle(rounds = 20): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Polls until `condition` holds (real I/O such as SQLite and SMTP takes real time). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A clock and timer the test moves by hand: the scheduler's real code runs on fake time. */
export class FakeTime implements SchedulerClock, Timer {
  private current: number;
  private timers: Array<{ at: number; fire: () => void; order: number }> = [];
  private order = 0;

  constructor(start: Date | string) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  at(at: Date, fire: () => void): () => void {
    const entry = { at: at.getTime(), fire, order: (this.order += 1) };
    this.timers.push(entry);
    return () => {
      this.timers = this.timers.filter((timer) => timer !== entry);
    };
  }

  /** Moves the clock to `to`, firing the timers due on the way in time order. */
  async advanceTo(to: Date | string): Promise<void> {
    const target = new Date(to).getTime();
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.current = Math.max(this.current, due.at);
      due.fire();
      await settle();
    }
    this.current = Math.max(this.current, target);
    await settle();
  }

  /** Times the armed timers will fire at (ISO), to see what the scheduler is waiting for. */
  pending(): string[] {
    return this.timers.map((timer) => new Date(timer.at).toISOString()).sort();
  }
}

/** Stands in for node-cron's clock-driven fires: the test says when node-cron fires and for which time. */
export class ManualFires implements FireSource {
  private listener: ((scheduled: Date) => void) | undefined;
  started = 0;
  stopped = 0;

  start(onFire: (scheduled: Date) => void): () => void {
    this.started += 1;
    this.listener = onFire;
    return () => {
      this.stopped += 1;
      this.listener = undefined;
    };
  }

  fire(scheduled: Date | string): void {
    this.listener?.(new Date(scheduled));
  }
}
