import { cronFires } from '../../schedule/cron-fires.js';
import { upcomingSlots } from '../../schedule/next-slot.js';
import { createScheduler, summaryCounts, type SchedulerSummary } from '../../schedule/scheduler.js';
import { slotId } from '../../schedule/slot-id.js';
import { systemTimer } from '../../schedule/system-timer.js';
import { formatZoneTime } from '../../schedule/zone-time.js';
import { buildSite } from '../../run/build-site.js';
import { slotRunner, slotSkipper } from '../../run/slot-run.js';
import type { CliContext } from '../context.js';

/**
 * `briefing schedule`: the long-running service. Follows `schedule.cron` in the publication zone
 * (see createScheduler: resume, catch-up, one run at a time), logs every fire, run and skip as JSON
 * lines on stderr, and on SIGTERM/SIGINT stops taking new work, lets the deliveries in flight finish
 * (at most 30 s) and exits 0; an edition left unfinished is resumed on the next start.
 */
export default async function schedule(context: CliContext): Promise<number> {
  const config = context.config();
  const { cron, catchUpMinutes } = config.schedule;
  const zone = config.timeZone;
  const store = await context.openStore();
  try {
    const scheduler = createScheduler({
      cron,
      zone,
      catchUpMinutes,
      editions: store,
      runSlot: slotRunner({
        config,
        store,
        clock: context.clock,
        logger: context.logger,
        interactive: false,
        createTransport: (editionId) => context.createTransport(editionId),
        dkim: context.dkim(),
        buildSite: (articles) => buildSite(config, { articles }),
      }),
      skipSlot: slotSkipper(store),
      clock: context.clock,
      timer: systemTimer(),
      fires: cronFires(cron, zone, context.logger),
      logger: context.logger,
    });
    // The signal may come while start-up is still resuming or catching up: stop reaches that run too.
    const stopped = new Promise<SchedulerSummary>((resolve) => {
      const stop = (): void => resolve(scheduler.stop());
      if (context.stopSignal.aborted) stop();
      else context.stopSignal.addEventListener('abort', stop, { once: true });
    });
    if (!context.stopSignal.aborted) {
      context.print(`Scheduling "${cron}" in ${zone}; next editions:`);
      for (const slot of upcomingSlots(cron, zone, context.clock.now(), 3)) context.print(`  ${slotId(cron, zone, slot)}  ${formatZoneTime(slot, zone)}`);
    }
    try {
      await scheduler.start();
    } catch (error) {
      await scheduler.stop();
      throw error;
    }
    const summary = await stopped;
    context.print(`Stopped: ${summaryCounts(summary)}${summary.abandoned ? '; a send was still in flight and resumes on the next start' : ''}`);
    return 0;
  } finally {
    await store.close();
  }
}
