import { resolveEditionSlot } from '../../edition/edition-slot.js';
import { BriefingError } from '../../errors.js';
import type { Delivery, EditionRecord, Store } from '../../store/store.js';
import { formatScheduleStatus, readScheduleStatus } from '../../schedule/schedule-status.js';
import { formatZoneTime } from '../../schedule/zone-time.js';
import type { CliContext } from '../context.js';

interface StatusOptions {
  date?: string;
  json?: boolean;
}

/** Failed deliveries are read this many at a time, so a long list never sits in memory at once. */
const PAGE = 500;

/** Every failed delivery of an edition, page by page in subscriber order. */
async function* failedDeliveries(store: Pick<Store, 'listDeliveries'>, editionId: string): AsyncGenerator<Delivery> {
  let afterSubscriberId: number | undefined;
  for (;;) {
    const page = await store.listDeliveries({ editionId, status: 'failed', limit: PAGE, ...(afterSubscriberId === undefined ? {} : { afterSubscriberId }) });
    yield* page;
    if (page.length < PAGE) return;
    afterSubscriberId = page[page.length - 1]?.subscriberId;
  }
}

/** Subscribers whose status changed last, with why (bounces, complaints, unsubscribes). */
const RECENT_CHANGES = 10;

/** Editions read to find the latest one whose slot has come. */
const RECENT = 50;

/** The newest edition whose slot is not in the future (one sent early with --force waits its turn), else the newest. */
async function latestEdition(store: Pick<Store, 'listEditions'>, now: Date): Promise<EditionRecord | undefined> {
  const recent = await store.listEditions(RECENT);
  return recent.find((record) => record.slot.getTime() <= now.getTime()) ?? recent[0];
}

/**
 * `briefing status [--date D] [--json]`: an edition's delivery counts and its failed deliveries with
 * the reply that failed them (the newest edition without --date), then the schedule's next slots and
 * last editions; with --json, one object.
 */
export default async function status(context: CliContext, options: StatusOptions): Promise<number> {
  const config = context.config();
  const store = await context.openStore();
  try {
    const schedule = await readScheduleStatus({ cron: config.schedule.cron, zone: config.timeZone, now: context.clock.now(), editions: store });
    const changes = (await store.recentStatusChanges(RECENT_CHANGES)).map((subscriber) => ({
      address: subscriber.address,
      status: subscriber.status,
      reason: subscriber.statusReason,
      at: subscriber.statusChangedAt,
    }));
    const changeLines = changes.length === 0 ? [] : ['Latest status changes:', ...changes.map((change) => `  ${change.at === null ? '' : formatZoneTime(change.at, config.timeZone)}  ${change.address}  ${change.status}: ${change.reason ?? ''}`)];
    const record =
      options.date === undefined
        ? await latestEdition(store, context.clock.now())
        : await store.getEdition(resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now: context.clock.now(), date: options.date }).id);
    if (record === undefined) {
      if (options.date !== undefined) throw new BriefingError('delivery', 'unknown-edition', `no edition ${options.date} in the store yet`);
      if (options.json) context.print(JSON.stringify({ edition: null, schedule, changes }));
      else for (const line of ['No edition yet.', ...formatScheduleStatus(schedule), ...changeLines]) context.print(line);
      return 0;
    }
    const counts = await store.deliveryCounts(record.id);
    if (options.json) {
      const failures = [];
      for await (const delivery of failedDeliveries(store, record.id)) {
        failures.push({ subscriberId: delivery.subscriberId, address: delivery.address, attempts: delivery.attempts, lastReply: delivery.lastReply, updatedAt: delivery.updatedAt });
      }
      context.print(JSON.stringify({ edition: record.id, status: record.status, subject: record.subject, note: record.note, counts, failures, schedule, changes }));
      return 0;
    }
    context.print(`Edition ${record.id} (${record.status})${record.subject === '' ? '' : `: ${record.subject}`}`);
    if (record.note !== null) context.print(`  ${record.note}`);
    context.print(`  queued ${counts.queued}, sending ${counts.sending}, sent ${counts.sent}, failed ${counts.failed}, skipped ${counts.skipped} (nothing for their topics)`);
    if (counts.failed > 0) context.print('Failed deliveries:');
    for await (const delivery of failedDeliveries(store, record.id)) {
      context.print(`  ${delivery.address}  ${delivery.lastReply ?? '(no reply)'}  [${delivery.attempts} ${delivery.attempts === 1 ? 'attempt' : 'attempts'}]`);
    }
    for (const line of [...formatScheduleStatus(schedule), ...changeLines]) context.print(line);
    return 0;
  } finally {
    await store.close();
  }
}
