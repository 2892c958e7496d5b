import { nextSlot, previousSlot } from './next-slot.js';
import type { SlotTarget } from './scheduler.js';
import { slotId } from './slot-id.js';

/** The edition `briefing run` works on, and why that one. */
export interface DueEdition {
  target: SlotTarget;
  /** `due`: the latest slot at or before now; `newest-content`: the first edition, moved to the newest content. */
  reason: 'due' | 'newest-content';
  /** The slot that was due, when the edition is another one. */
  due?: SlotTarget;
}

/**
 * Picks the edition `briefing run` plans: the due one, the latest slot at or before now.
 *
 * The first edition rule: when nothing has been sent yet (`firstEdition`) and the due edition's
 * look-back window (`edition.firstLookBackHours` before its slot) holds no article, the first
 * edition is the one due right after the newest content instead: the first slot at or after the
 * newest article's last change. Its window (the same look-back before that slot) then covers the
 * newest day of content. This is what makes `npm install && npm start` on a fresh clone, long after
 * the sample content was written, write the feeds and archive AND send the sample subscribers an
 * edition of the latest stories rather than skip an empty one. Later runs plan the due edition
 * from that first edition's cut-off as usual, so nothing is sent twice. Content newer than the due
 * slot is never pulled forward: an edition is never planned before its slot.
 */
export function chooseDueEdition(input: {
  cron: string;
  zone: string;
  now: Date;
  firstLookBackHours: number;
  /** The content's story, as the run reads it: every publication and update instant, and the newest last change (undefined: no content). */
  content: { changes: readonly Date[]; newest: Date | undefined };
  firstEdition: boolean;
}): DueEdition | undefined {
  const { cron, zone } = input;
  const dueSlot = previousSlot(cron, zone, input.now);
  if (dueSlot === undefined) return undefined;
  const due = { id: slotId(cron, zone, dueSlot), slot: dueSlot };
  const { changes } = input.content;
  if (!input.firstEdition || input.content.newest === undefined) return { target: due, reason: 'due' };
  const since = dueSlot.getTime() - input.firstLookBackHours * 3_600_000;
  if (changes.some((time) => time.getTime() > since && time.getTime() <= dueSlot.getTime())) return { target: due, reason: 'due' };
  const newest = input.content.newest.getTime();
  if (newest > dueSlot.getTime()) return { target: due, reason: 'due' };
  const slot = nextSlot(cron, zone, new Date(newest - 1));
  return { target: { id: slotId(cron, zone, slot), slot }, reason: 'newest-content', due };
}
