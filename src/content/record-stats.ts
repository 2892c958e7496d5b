import { statSync } from 'node:fs';
import { receiveMessageOnPort } from 'node:worker_threads';
import type { RecordStamp } from './article-cache.js';
import { helperScript, startHelperThread, stopHelperThread, waitForHelper, type HelperThread } from './helper-thread.js';

/**
 * The `stat` of every record of a load, taken before any record is read (so each stamp is older
 * than the bytes read after it). Kept as rows of one number array rather than an object per record.
 */
export interface RecordStats {
  /** The stamp of record `index`, or undefined when its `stat` failed (see `failure`). */
  stamp(index: number): RecordStamp | undefined;
  /** The error code of a `stat` that failed (`ENOENT`, `EACCES`…). */
  failure(index: number): string | undefined;
}

/** Takes the `stat` of records, on this thread or also on a helper thread (see createSharedStats). */
export interface RecordStatter {
  /** The stats of `names` in `folder` (a path ending in the separator), in the names' order. */
  stat(folder: string, names: readonly string[]): RecordStats;
  /** Records the helper thread took the `stat` of so far. */
  readonly helperStats: number;
  /** Stops the helper thread, if one was started. */
  close(): void;
}

/** Numbers per record: size, modification time, change time, inode. */
const FIELDS = 4;
/** Names a thread takes at a time from the shared counter. */
export const STAT_CHUNK = 256;
/** Slots of the shared counters: the next chunk to take, and the chunks the helper holds. */
export const NEXT = 0;
export const BUSY = 1;

/** What the helper is sent for one load. */
export interface StatJob {
  folder: string;
  names: readonly string[];
  /** NEXT and BUSY, as Int32. */
  counters: SharedArrayBuffer;
  /** FIELDS numbers per name, as Float64; a `stat` that failed is posted as a StatFailure instead. */
  rows: SharedArrayBuffer;
}

/** A `stat` the helper could not take. */
export interface StatFailure {
  index: number;
  code: string;
}

/** Takes the stats of the names of every chunk it gets from the counter, for both threads; returns how many it took. */
export function statChunks(job: Omit<StatJob, 'counters' | 'rows'>, counters: Int32Array, rows: Float64Array, failed: (failure: StatFailure) => void, holding?: Int32Array): number {
  let taken = 0;
  for (;;) {
    // Busy before taking: the loading thread waits for busy 0, so it never misses a chunk taken here.
    if (holding !== undefined) Atomics.add(holding, BUSY, 1);
    const chunk = Atomics.add(counters, NEXT, 1);
    const start = chunk * STAT_CHUNK;
    const end = Math.min(start + STAT_CHUNK, job.names.length);
    taken += Math.max(end - start, 0);
    for (let index = start; index < end; index += 1) {
      try {
        const stats = statSync(`${job.folder}${job.names[index] as string}`);
        const first = FIELDS * index;
        rows[first] = stats.size;
        rows[first + 1] = stats.mtimeMs;
        rows[first + 2] = stats.ctimeMs;
        rows[first + 3] = stats.ino;
      } catch (error) {
        failed({ index, code: (error as NodeJS.ErrnoException).code ?? String(error) });
      }
    }
    if (holding !== undefined) {
      Atomics.sub(holding, BUSY, 1);
      Atomics.notify(holding, BUSY);
    }
    if (end >= job.names.length) return taken;
  }
}

function statsOf(rows: Float64Array, failures: ReadonlyMap<number, string>): RecordStats {
  return {
    stamp(index) {
      if (failures.has(index)) return undefined;
      const first = FIELDS * index;
      return { size: rows[first] as number, mtimeMs: rows[first + 1] as number, ctimeMs: rows[first + 2] as number, ino: rows[first + 3] as number };
    },
    failure: (index) => failures.get(index),
  };
}

/** Stats taken on this thread alone. */
export function statHere(folder: string, names: readonly string[]): RecordStats {
  const rows = new Float64Array(FIELDS * names.length);
  const failures = new Map<number, string>();
  statChunks({ folder, names }, new Int32Array(2), rows, ({ index, code }) => failures.set(index, code));
  return statsOf(rows, failures);
}

/** The helper's script in the compiled program (dist/); the TypeScript sources (tests) stat on one thread. */
const WORKER_SCRIPT = helperScript('stat-worker.js');

/** Fewer records than this are statted here alone: handing them over costs more than it saves. */
const SHARED_FROM = 2 * STAT_CHUNK;

/**
 * A statter for a caller that loads again and again (`briefing build --watch`): a helper thread,
 * started at the first load and kept, takes chunks of the names from a shared counter as this thread
 * does, so the `stat` of every record (a quarter of a rebuild after one edit) takes half the time on
 * two cores. The load stays synchronous: this thread waits with `Atomics.wait` and reads the helper's
 * failures with `receiveMessageOnPort`. A helper that cannot start leaves every stat to this thread.
 */
export function createSharedStats(): RecordStatter {
  let helper: HelperThread | undefined;
  let unavailable = WORKER_SCRIPT === undefined;
  let helperStats = 0;
  const start = (): HelperThread | undefined => {
    if (helper !== undefined || unavailable) return helper;
    helper = startHelperThread(WORKER_SCRIPT as string, {}, 4);
    unavailable = helper === undefined;
    return helper;
  };
  return {
    stat(folder, names) {
      const shared = names.length >= SHARED_FROM ? start() : undefined;
      if (shared === undefined) return statHere(folder, names);
      const counters = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
      const rows = new Float64Array(new SharedArrayBuffer(FIELDS * names.length * Float64Array.BYTES_PER_ELEMENT));
      shared.port.postMessage({ folder, names, counters: counters.buffer, rows: rows.buffer } satisfies StatJob);
      const failures = new Map<number, string>();
      helperStats += names.length - statChunks({ folder, names }, counters, rows, ({ index, code }) => failures.set(index, code));
      waitForHelper(counters, BUSY, 'stat-helper-stopped', "helper thread held the records' stats");
      for (let received = receiveMessageOnPort(shared.port); received !== undefined; received = receiveMessageOnPort(shared.port)) {
        const failure = received.message as StatFailure;
        failures.set(failure.index, failure.code);
      }
      return statsOf(rows, failures);
    },
    get helperStats() {
      return helperStats;
    },
    close() {
      if (helper === undefined) return;
      stopHelperThread(helper);
      helper = undefined;
    },
  };
}
