/**
 * A batch of work shared between this thread and a helper thread: both take items from a counter in
 * shared memory until none is left, so neither waits for the other while there is work, and the
 * thread that owns the batch waits only for what the helper holds at the end. Used by the load
 * (parsing records) and the build (rendering pages).
 */

/** Slots of a batch's counters: the next item to take, and whether (how much) the helper holds. */
export const NEXT = 0;
export const BUSY = 1;

/** The counters of a new batch, to be sent to the helper with it. */
export function sharedCounters(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

/** Takes the batch's next item: its index, at or past the batch's length when none is left. */
export function takeNext(counters: Int32Array): number {
  return Atomics.add(counters, NEXT, 1);
}

/**
 * Blocks until the helper holds nothing of the batch, which this thread has taken to the end (so
 * the helper takes nothing more). False when the helper still holds an item after `timeoutMs`.
 */
export function waitForHelper(counters: Int32Array, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let busy = Atomics.load(counters, BUSY); busy !== 0; busy = Atomics.load(counters, BUSY)) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(counters, BUSY, busy, left);
  }
  return true;
}

/** Ends a batch early: whatever either thread takes next is past its end. */
export function stopTaking(counters: Int32Array): void {
  Atomics.store(counters, NEXT, STOPPED);
}

/** A count past any batch's end (and far from overflowing as both threads go on adding to it). */
const STOPPED = 2 ** 30;

/** The helper's side: it holds the batch (before taking, so the owner never misses an item taken). */
export function hold(counters: Int32Array): void {
  Atomics.add(counters, BUSY, 1);
}

/** The helper's side: it lets go of what it held, and wakes the owner should it be waiting. */
export function release(counters: Int32Array): void {
  Atomics.sub(counters, BUSY, 1);
  Atomics.notify(counters, BUSY);
}
