import { DateTime } from 'luxon';
import { parseCron } from './cron-pattern.js';

/**
 * The edition id of a slot: its date in the publication zone (`YYYY-MM-DD`) when the cron fires at
 * most once a day, else the slot's minute (`YYYY-MM-DDTHH:mm`), or second for seconds-level crons.
 * The store's unique edition id then allows one edition per slot, ever.
 */
export function slotId(cron: string, zone: string, slot: Date): string {
  const pattern = parseCron(cron);
  const local = DateTime.fromJSDate(slot, { zone });
  if (pattern.atMostDaily) return local.toFormat('yyyy-MM-dd');
  return local.toFormat(pattern.subMinute ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm");
}
