import type { EditionStore } from '../../../src/store/store.js';
import type { RunOutcome, RunSlot, SlotTarget } from '../../../src/schedule/scheduler.js';
import type { SchedulerClock } from '../../../src/schedule/scheduler.js';

/**
 * A run for scheduler-logic tests: records which slots ran and how many at once, creates the
 * edition record as the real pipeline does (so catch-up and resume see it), and finishes when the
 * test says so. The real pipeline is exercised by run-slot and schedule-process tests.
 */
export class RecordedRuns {
  readonly calls: SlotTarget[] = [];
  active = 0;
  maxActive = 0;
  holding = false;
  /** Slots whose next run fails after its record is made (a server that is down), leaving it `sending`. */
  readonly failing = new Set<string>();
  private held: Array<() => void> = [];
  signals: AbortSignal[] = [];

  constructor(
    private readonly editions: EditionStore,
    private readonly clock: SchedulerClock,
  ) {}

  readonly runSlot: RunSlot = async (target, signal): Promise<RunOutcome> => {
    this.calls.push(target);
    this.signals.push(signal);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const now = this.clock.now();
      const existing = await this.editions.getEdition(target.id);
      if (existing === undefined) {
        await this.editions.createEdition({ id: target.id, slot: target.slot, status: 'sending', cutoff: target.slot, subject: `Edition ${target.id}`, note: null, memory: null }, now);
      }
      if (this.failing.delete(target.id)) throw new Error('cannot connect to 127.0.0.1:2525: ECONNREFUSED');
      if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
      await this.editions.setEditionStatus(target.id, 'sent', this.clock.now());
      return { status: 'sent' };
    } finally {
      this.active -= 1;
    }
  };

  /** Lets the oldest held run finish. */
  release(): void {
    this.held.shift()?.();
  }

  get waitingToFinish(): number {
    return this.held.length;
  }

  ids(): string[] {
    return this.calls.map((call) => call.id);
  }
}
