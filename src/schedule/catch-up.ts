import { slotsBetween, SLOTS_BETWEEN_LIMIT } from './next-slot.js';

/** What the scheduler knows on start about the slot that is due and the editions before it. */
export interface CatchUpInput {
  cron: string;
  zone: string;
  now: Date;
  catchUpMinutes: number;
  /** The latest slot at or before now (undefined: the cron has none). */
  due: Date | undefined;
  /** True when the store has an edition record (any status) for the due slot. */
  dueHasEdition: boolean;
  /** Slot of the newest edition record, to count the slots missed before the due one. */
  newestEditionSlot: Date | undefined;
}

/** What to do on start about slots missed while the service was down. */
export type CatchUpPlan =
  | { action: 'none' }
  | {
      /** `run`: the due slot is within the catch-up window; `skip`: record it as skipped. */
      action: 'run' | 'skip';
      slot: Date;
      lateMinutes: number;
      /** Slots missed before the due one: never run, never recorded, only counted in the log. */
      olderMissed: number;
      /** True when olderMissed reached the count limit (a seconds-level cron down for long). */
      olderMissedAtLeast: boolean;
    };

/**
 * Decides the catch-up after downtime: only the most recent missed slot may run, and only when it
 * is no older than the window; a stale edition is recorded skipped, never mailed late, and older
 * missed slots are never run in a burst.
 */
export function planCatchUp(input: CatchUpInput): CatchUpPlan {
  const { due } = input;
  if (due === undefined || input.dueHasEdition) return { action: 'none' };
  const older =
    input.newestEditionSlot === undefined
      ? []
      : slotsBetween(input.cron, input.zone, input.newestEditionSlot, new Date(due.getTime() - 1), SLOTS_BETWEEN_LIMIT);
  const lateMinutes = (input.now.getTime() - due.getTime()) / 60_000;
  return {
    action: lateMinutes <= input.catchUpMinutes ? 'run' : 'skip',
    slot: due,
    lateMinutes: Math.round(lateMinutes * 10) / 10,
    olderMissed: older.length,
    olderMissedAtLeast: older.length >= SLOTS_BETWEEN_LIMIT,
  };
}
