import { DateTime } from 'luxon';
import type { EditionStatus, EditionStore } from '../store/store.js';
import { upcomingSlots } from './next-slot.js';
import { slotId } from './slot-id.js';
import { formatZoneTime } from './zone-time.js';

/** One slot or edition as `briefing status` shows it. */
export interface StatusSlot {
  id: string;
  /** The slot instant (ISO, UTC) and its wall time in the publication zone. */
  slot: string;
  local: string;
}

/** What `briefing status` shows about the schedule: the next slots and the last editions. */
export interface ScheduleStatus {
  cron: string;
  zone: string;
  next: StatusSlot[];
  last: Array<StatusSlot & { status: EditionStatus; note: string | null; updated: string }>;
}

function localTime(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISO({ suppressMilliseconds: true }) ?? instant.toISOString();
}

/** Reads the schedule's next slots (by the same walk the scheduler uses) and the newest edition records. */
export async function readScheduleStatus(input: {
  cron: string;
  zone: string;
  now: Date;
  editions: Pick<EditionStore, 'listEditions'>;
  nextCount?: number;
  lastCount?: number;
}): Promise<ScheduleStatus> {
  const { cron, zone } = input;
  const next = upcomingSlots(cron, zone, input.now, input.nextCount ?? 3).map((slot) => ({
    id: slotId(cron, zone, slot),
    slot: slot.toISOString(),
    local: localTime(slot, zone),
  }));
  const records = await input.editions.listEditions(input.lastCount ?? 5);
  const last = records.map((record) => ({
    id: record.id,
    slot: record.slot.toISOString(),
    local: localTime(record.slot, zone),
    status: record.status,
    note: record.note,
    updated: record.updatedAt.toISOString(),
  }));
  return { cron, zone, next, last };
}

/** The status as printable lines (the `--json` form is the object itself). */
export function formatScheduleStatus(status: ScheduleStatus): string[] {
  return [
    `schedule: "${status.cron}" in ${status.zone}`,
    ...status.next.map((slot, index) => `${index === 0 ? 'next:' : '     '} ${formatZoneTime(new Date(slot.slot), status.zone)}  edition ${slot.id}`),
    ...(status.last.length === 0 ? ['last editions: none yet'] : ['last editions:']),
    ...status.last.map((edition) => `  ${edition.id}  ${edition.status.padEnd(8)} ${formatZoneTime(new Date(edition.slot), status.zone)}${edition.note === null ? '' : `  (${edition.note})`}`),
  ];
}
