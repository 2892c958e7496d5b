import type { EditionRecord, EditionStore } from '../store/store.js';

/** How many recent editions are looked at for unfinished ones (the scheduler's start, each `briefing run`). */
export const RESUME_LOOKBACK = 20;

/** The recent editions, newest first, as read to look for unfinished ones. */
export function recentEditions(editions: Pick<EditionStore, 'listEditions'>): Promise<EditionRecord[]> {
  return editions.listEditions(RESUME_LOOKBACK);
}

/** Of the recent editions (newest first), the unfinished ones: planned, or sending with deliveries left; oldest first, the order to resume them in. */
export function unfinishedOldestFirst(recent: readonly EditionRecord[]): EditionRecord[] {
  return recent.filter((edition) => edition.status === 'planned' || edition.status === 'sending').reverse();
}
