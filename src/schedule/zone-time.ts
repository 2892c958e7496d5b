import { DateTime } from 'luxon';
import { englishZoneName } from '../zone-names.js';

/** An instant as the publication's readers see it: `2025-07-23 21:00 EEST` (wall time and zone abbreviation), the one form every command prints. */
export function formatZoneTime(instant: Date, zone: string): string {
  return `${DateTime.fromJSDate(instant, { zone }).toFormat('yyyy-MM-dd HH:mm')} ${englishZoneName(instant, zone)}`;
}
