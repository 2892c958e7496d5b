import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { EditionRecord, EditionStore } from '../store/store.js';
import { recentEditions, unfinishedOldestFirst } from './unfinished-editions.js';
import { planCatchUp } from './catch-up.js';
import { nextSlot, previousSlot, upcomingSlots } from './next-slot.js';
import { slotId } from './slot-id.js';

/** The scheduler's idea of now; tests pass a fake one. */
export interface SchedulerClock {
  now(): Date;
}

/** One-shot timers on the scheduler's clock; tests pass a fake one. */
export interface Timer {
  /** Calls `fire` once when the clock reaches `at`; the returned function cancels it. */
  at(at: Date, fire: () => void): () => void;
}

/** The cron driver (node-cron in production): reports each fire with its scheduled time. */
export interface FireSource {
  /** Starts calling `onFire`; the returned function stops it. */
  start(onFire: (scheduled: Date) => void): () => void;
}

/** An edition slot to run: its id and scheduled instant. */
export interface SlotTarget {
  id: string;
  slot: Date;
}

/** What one run did, for the log line and the summary. */
export interface RunOutcome {
  /** `sent`: delivered (or nothing left to deliver); `skipped`: nothing to send; `interrupted`: stopped mid-send. */
  status: 'sent' | 'skipped' | 'interrupted';
  /** Counts and notes for the log. */
  details?: Record<string, unknown>;
}

/** One pass for a slot: build, plan, render, send, write. `signal` asks it to stop taking new work. */
export type RunSlot = (target: SlotTarget, signal: AbortSignal) => Promise<RunOutcome>;

/** Records a slot the scheduler will not run as skipped, with the reason; true only when this call recorded it. */
export type SkipSlot = (target: SlotTarget, note: string, now: Date) => Promise<boolean>;

/** `2 runs, 1 skipped, 0 failed`: the counts of a summary as `schedule` prints and logs them. */
export function summaryCounts(summary: Pick<SchedulerSummary, 'runs' | 'skipped' | 'failed'>): string {
  return `${summary.runs} ${summary.runs === 1 ? 'run' : 'runs'}, ${summary.skipped} skipped, ${summary.failed} failed`;
}

/** What a scheduler did while it ran, logged when it stops. */
export interface SchedulerSummary {
  fires: number;
  runs: number;
  failed: number;
  /** Editions skipped: slots missed and recorded skipped, and runs that found nothing new. */
  skipped: number;
  resumed: number;
  caughtUp: number;
  /** True when a run was still in flight when the drain time ran out. */
  abandoned: boolean;
}

export interface SchedulerDependencies {
  cron: string;
  zone: string;
  catchUpMinutes: number;
  editions: Pick<EditionStore, 'getEdition' | 'listEditions'>;
  runSlot: RunSlot;
  skipSlot: SkipSlot;
  clock: SchedulerClock;
  timer: Timer;
  fires: FireSource;
  logger: Logger;
  /** Longest `stop` waits for the run in flight (deliveries finishing) before giving up on it. */
  drainMs?: number;
}

export interface Scheduler {
  /** Resumes unfinished editions, catches up on a missed slot, then follows the cron; resolves when that start-up is done or a stop is requested. */
  start(): Promise<void>;
  /** Stops taking new work, lets the run in flight finish (bounded), and returns the summary. */
  stop(): Promise<SchedulerSummary>;
}

const DEFAULT_DRAIN_MS = 30_000;
/** How long after a slot the backstop timer waits for node-cron's fire (less for crons that fire faster). */
const BACKSTOP_GRACE_MS = 1000;
/** A fire's run that starts this late (waiting behind a slow run, or after a suspend) is still on time. */
const ON_TIME_MS = 60_000;

/**
 * The long-running scheduler. node-cron fires; the slot of a fire is the latest slot (by our luxon
 * walk) at or before the fire's scheduled time, so DST rules are ours and a fire is never "now"
 * rounded. A timer backs node-cron up at each slot (plus a little grace) for the slots node-cron
 * does not fire: a time skipped by DST, the first pass of a repeated hour, a beat it missed.
 * Runs never overlap: a fire during a run waits; a second one replaces it and the replaced slot is
 * recorded skipped. The store's unique edition id makes every slot one edition, whoever runs it.
 */
export function createScheduler(dependencies: SchedulerDependencies): Scheduler {
  const { cron, zone, clock, timer, logger, editions } = dependencies;
  const drainMs = dependencies.drainMs ?? DEFAULT_DRAIN_MS;
  const stopRequest = new AbortController();
  const summary: SchedulerSummary = { fires: 0, runs: 0, failed: 0, skipped: 0, resumed: 0, caughtUp: 0, abandoned: false };
  /** The newest slot accepted (run, waiting or skipped): older or equal fires are duplicates. */
  let newestSlot = Number.NEGATIVE_INFINITY;
  let waiting: Date | undefined;
  let busy: Promise<void> | undefined;
  let stopFires: (() => void) | undefined;
  let cancelBackstop: (() => void) | undefined;
  /** A run failed or was cut short since the last look for unfinished editions: the next fire looks first. */
  let unfinishedLeft = false;

  const target = (slot: Date): SlotTarget => ({ id: slotId(cron, zone, slot), slot });
  const describe = ({ id, slot }: SlotTarget): Record<string, string> => ({
    edition: id,
    slot: slot.toISOString(),
    local: DateTime.fromJSDate(slot, { zone }).toISO() ?? '',
  });

  async function recordSkipped(skipped: SlotTarget, note: string): Promise<void> {
    const { id } = skipped;
    const created = await dependencies.skipSlot(skipped, note, clock.now());
    if (created) summary.skipped += 1;
    logger.info({ event: 'skip', ...describe(skipped), note, recorded: created }, created ? `edition ${id} skipped: ${note}` : `edition ${id} already has a record; not skipped`);
  }

  /** Runs one edition; a resumed one keeps its record's id even if the cron has changed since. */
  async function runOne(slotTarget: SlotTarget, reason: 'fire' | 'catch-up' | 'resume'): Promise<void> {
    const started = clock.now();
    try {
      const staleAfterMs = Math.max(dependencies.catchUpMinutes * 60_000, ON_TIME_MS);
      if (reason === 'fire' && started.getTime() - slotTarget.slot.getTime() > staleAfterMs) {
        await recordSkipped(slotTarget, 'missed: outside catch-up window');
        return;
      }
      logger.info({ event: 'run-start', reason, ...describe(slotTarget) }, `run of edition ${slotTarget.id} starts (${reason})`);
      const outcome = await dependencies.runSlot(slotTarget, stopRequest.signal);
      if (outcome.status === 'interrupted') unfinishedLeft = true;
      summary.runs += 1;
      if (outcome.status === 'skipped') summary.skipped += 1;
      const durationMs = clock.now().getTime() - started.getTime();
      logger.info(
        { event: 'run', reason, ...describe(slotTarget), status: outcome.status, durationMs, ...outcome.details },
        `run of edition ${slotTarget.id}: ${outcome.status}`,
      );
    } catch (error) {
      summary.failed += 1;
      unfinishedLeft = true;
      logger.error({ event: 'run-failed', reason, ...describe(slotTarget), err: error }, `run of edition ${slotTarget.id} failed; an unfinished edition is resumed before the next slot's run`);
    }
  }

  /** Resumes the unfinished editions (planned, or sending with deliveries left), oldest first. */
  async function resumeUnfinished(recent: readonly EditionRecord[]): Promise<void> {
    unfinishedLeft = false;
    for (const edition of unfinishedOldestFirst(recent)) {
      if (stopRequest.signal.aborted) return;
      summary.resumed += 1;
      const resumed = { id: edition.id, slot: edition.slot };
      logger.info({ event: 'resume', ...describe(resumed), status: edition.status }, `resuming unfinished edition ${edition.id} (${edition.status})`);
      await runOne(resumed, 'resume');
    }
  }

  /** A fire's run, after the editions an earlier run of this scheduler left unfinished (a server that was down). */
  async function runFired(fired: SlotTarget): Promise<void> {
    if (unfinishedLeft) await resumeUnfinished(await recentEditions(editions));
    if (!stopRequest.signal.aborted) await runOne(fired, 'fire');
  }

  /** Runs `first`, then the slot that waited meanwhile (if any), one at a time. */
  function drain(first: () => Promise<void>): void {
    busy = first().finally(() => {
      busy = undefined;
      const next = waiting;
      waiting = undefined;
      if (next !== undefined && !stopRequest.signal.aborted) drain(() => runFired(target(next)));
      else armBackstop();
    });
  }

  function onFire(scheduled: Date, source: 'cron' | 'timer'): void {
    if (stopRequest.signal.aborted) return;
    const fired = target(previousSlot(cron, zone, scheduled) ?? scheduled);
    if (fired.slot.getTime() <= newestSlot) {
      logger.debug({ event: 'fire-duplicate', source, ...describe(fired) }, `fire for edition ${fired.id} already taken`);
      return;
    }
    newestSlot = fired.slot.getTime();
    summary.fires += 1;
    logger.info({ event: 'fire', source, ...describe(fired) }, `fire for edition ${fired.id} (${source})`);
    armBackstop();
    if (busy === undefined) {
      drain(() => runFired(fired));
      return;
    }
    const replaced = waiting;
    waiting = fired.slot;
    logger.info({ event: 'wait', ...describe(fired) }, `a run is in progress: edition ${fired.id} waits for it`);
    if (replaced !== undefined) {
      void recordSkipped(target(replaced), `overlap: superseded by ${fired.id} while a run was in progress`).catch((error: unknown) =>
        logger.error({ event: 'skip-failed', err: error }, 'could not record a skipped edition'),
      );
    }
  }

  /**
   * Arms the timer that runs the next slot if node-cron has not fired for it by then. The next slot
   * is the first after the newest one taken, or after a second ago: never one already taken, never
   * one whose timer was pending, and never a burst of old slots after the clock jumped.
   */
  function armBackstop(): void {
    cancelBackstop?.();
    cancelBackstop = undefined;
    if (stopRequest.signal.aborted) return;
    const next = nextSlot(cron, zone, new Date(Math.max(newestSlot, clock.now().getTime() - BACKSTOP_GRACE_MS)));
    const following = nextSlot(cron, zone, next);
    const graceMs = Math.min(BACKSTOP_GRACE_MS, (following.getTime() - next.getTime()) / 2);
    cancelBackstop = timer.at(new Date(next.getTime() + graceMs), () => {
      cancelBackstop = undefined;
      onFire(next, 'timer');
      armBackstop();
    });
  }

  async function startUp(): Promise<void> {
    const recent = await recentEditions(editions);
    await resumeUnfinished(recent);
    if (stopRequest.signal.aborted) return;
    await catchUp(recent[0]);
  }

  async function catchUp(newest: EditionRecord | undefined): Promise<void> {
    const now = clock.now();
    const due = previousSlot(cron, zone, now);
    const dueRecord = due === undefined ? undefined : await editions.getEdition(slotId(cron, zone, due));
    const plan = planCatchUp({
      cron,
      zone,
      now,
      catchUpMinutes: dependencies.catchUpMinutes,
      due,
      dueHasEdition: dueRecord !== undefined,
      newestEditionSlot: newest?.slot,
    });
    // A fire that arrived during start-up already took the slot.
    if (plan.action === 'none' || plan.slot.getTime() <= newestSlot || stopRequest.signal.aborted) return;
    newestSlot = plan.slot.getTime();
    const missed = target(plan.slot);
    const olderMissed = `${plan.olderMissedAtLeast ? 'at least ' : ''}${plan.olderMissed}`;
    logger.info(
      { event: 'catch-up', action: plan.action, ...describe(missed), lateMinutes: plan.lateMinutes, catchUpMinutes: dependencies.catchUpMinutes, olderMissed },
      `missed edition ${missed.id} (${plan.lateMinutes} min ago): ${plan.action === 'run' ? 'running it now' : 'outside the catch-up window, recorded skipped'}; ${olderMissed} older missed slot(s) not run`,
    );
    if (plan.action === 'run') {
      summary.caughtUp += 1;
      await runOne(missed, 'catch-up');
    } else {
      await recordSkipped(missed, 'missed: outside catch-up window');
    }
  }

  return {
    async start() {
      const now = clock.now();
      logger.info(
        { event: 'start', cron, zone, catchUpMinutes: dependencies.catchUpMinutes, next: upcomingSlots(cron, zone, now, 3).map((slot) => describe(target(slot))) },
        `scheduler started: "${cron}" in ${zone}`,
      );
      // node-cron starts first so no slot falls between catch-up and the first fire; fires during start-up wait.
      stopFires = dependencies.fires.start((scheduled) => onFire(scheduled, 'cron'));
      const startedUp = new Promise<void>((resolve, reject) =>
        drain(() =>
          startUp().then(resolve, (error: unknown) => {
            logger.error({ event: 'start-failed', err: error }, 'scheduler start-up failed');
            reject(error as Error);
          }),
        ),
      );
      // A failure after a stop request is logged above and needs no caller.
      startedUp.catch(() => undefined);
      const stopRequested = new Promise<void>((resolve) => stopRequest.signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([startedUp, stopRequested]);
      armBackstop();
    },

    async stop() {
      if (!stopRequest.signal.aborted) {
        stopRequest.abort();
        stopFires?.();
        cancelBackstop?.();
        if (waiting !== undefined) {
          const dropped = target(waiting);
          logger.info({ event: 'drop', ...describe(dropped) }, `stopping: edition ${dropped.id} will not run now (catch-up decides on the next start)`);
          waiting = undefined;
        }
      }
      const inFlight = busy;
      if (inFlight !== undefined) {
        logger.info({ event: 'drain', drainMs }, 'stopping: letting the deliveries in flight finish');
        let cancelDrainTimer: () => void = () => undefined;
        const ranOut = new Promise<true>((resolve) => {
          cancelDrainTimer = timer.at(new Date(clock.now().getTime() + drainMs), () => resolve(true));
        });
        summary.abandoned = (await Promise.race([inFlight.then(() => false), ranOut])) === true;
        cancelDrainTimer();
        cancelBackstop?.();
        if (summary.abandoned) {
          logger.warn({ event: 'drain-timeout', drainMs }, 'stopping: a run is still in flight; its edition stays unfinished and is resumed on the next start');
        }
      }
      logger.info({ event: 'summary', ...summary }, `scheduler stopped: ${summaryCounts(summary)}`);
      return { ...summary };
    },
  };
}
