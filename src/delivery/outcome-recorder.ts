import type { DeliveryOutcome } from '../store/store.js';

/** Longest an outcome waits for others to share its transaction while messages are still in flight. */
const RECORD_DELAY_MS = 20;

/** What the recorder writes with and tells. */
export interface OutcomeRecorderParts {
  /** Writes one batch of outcomes in one transaction. */
  record(batch: DeliveryOutcome[]): Promise<void>;
  recordBatch: number;
  /** True when no more outcomes are coming soon, or the run is ending: record now, not a fuller batch later. */
  ending(): boolean;
  /** A batch could not be recorded: the send stops on the first such error. */
  failed(error: unknown): void;
  /** A batch was recorded (or failed to be). */
  recorded(): void;
}

/**
 * The sender's outcomes on their way to the outbox: recorded once `recordBatch` of them wait (sooner
 * when the run is ending, and at most RECORD_DELAY_MS late), so the outbox costs one transaction
 * per batch, not per message. Counts what it recorded.
 */
export class OutcomeRecorder {
  /** This run's recorded outcomes. */
  readonly tally = { sent: 0, failed: 0, bounced: 0, retried: 0 };
  /** Outcomes the server gave that are not recorded yet, and how many of them a running flush is writing. */
  private readonly pending: DeliveryOutcome[] = [];
  private recording = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly parts: OutcomeRecorderParts) {}

  /** Outcomes not recorded yet: with the messages on the wire, what a kill would lose. */
  get unrecorded(): number {
    return this.pending.length + this.recording;
  }

  add(outcome: DeliveryOutcome): void {
    this.pending.push(outcome);
    this.schedule();
  }

  /** Starts a flush now when it is urgent, else within RECORD_DELAY_MS. */
  schedule(): void {
    if (this.flushing !== undefined || this.pending.length === 0) return;
    if (this.urgent()) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flushing = this.flush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flushing ??= this.flush();
      }, RECORD_DELAY_MS);
    }
  }

  private urgent(): boolean {
    return this.pending.length >= this.parts.recordBatch || this.parts.ending();
  }

  private async flush(): Promise<void> {
    // Outcomes that arrive in the same turn of the event loop share one transaction.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      this.recording = batch.length;
      try {
        await this.parts.record(batch);
      } catch (error) {
        this.parts.failed(error);
      }
      this.recording = 0;
      for (const outcome of batch) {
        if (outcome.status === 'sent') this.tally.sent += 1;
        else if (outcome.status === 'retry') this.tally.retried += 1;
        else {
          this.tally.failed += 1;
          if (outcome.bounce) this.tally.bounced += 1;
        }
      }
      this.parts.recorded();
      if (!this.urgent()) break;
    }
    this.flushing = undefined;
    if (this.pending.length > 0) this.schedule();
  }
}
