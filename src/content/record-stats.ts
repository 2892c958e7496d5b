import { statSync } from 'node:fs';
import type { RecordStamp } from './article-cache.js';
import { BUSY, NEXT, lazyHelperThread, sharedCounters, waitForHelper } from './helper-thread.js';

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
const STAT_CHUNK = 256;
/** The helper's young generation, in MB: it makes a Stats object per record and keeps none. */
const HELPER_YOUNG_GENERATION_MB = 4;

/** What the helper is sent for one load. */
export interface StatJob {
  folder: string;
  names: readonly string[];
  /** The counters of the job (see `sharedCounters`): its next chunk, and the chunks the helper holds. */
  counters: SharedArrayBuffer;
  /** FIELDS numbers per name, as Float64; a `stat` that failed is posted as a StatFailure instead. */
  rows: SharedArrayBuffer;
}

/** A `stat` the helper could not take. */
export interface StatFailure {
  index: number;
  code: string;
}

/**
 * Takes the stats of the names of every chunk it gets from the counter, for both threads; returns how
 * many it took. The helper (`helper` true) marks the chunk it holds in BUSY, for the loading thread.
 */
export function statChunks(job: Omit<StatJob, 'counters' | 'rows'>, counters: Int32Array, rows: Float64Array, failed: (failure: StatFailure) => void, helper = false): number {
  let taken = 0;
  for (;;) {
    if (helper) Atomics.add(counters, BUSY, 1);
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
    if (helper) {
      Atomics.sub(counters, BUSY, 1);
      Atomics.notify(counters, BUSY);
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

/** Fewer records than this are statted here alone: handing them over costs more than it saves. */
const SHARED_FROM = 2 * STAT_CHUNK;

/**
 * A statter for a caller that loads again and again (`briefing build --watch`): a helper thread,
 * started at the first load and kept, takes chunks of the names from a shared counter as this thread
 * does, so the `stat` of every record (a quarter of a rebuild after one edit) takes half the time on
 * two cores. The load stays synchronous: this thread waits with `Atomics.wait` and reads the helper's
 * failures as it posted them. A helper that cannot start leaves every stat to this thread.
 */
export function createSharedStats(): RecordStatter {
  const helper = lazyHelperThread('stat-worker.js', {}, HELPER_YOUNG_GENERATION_MB);
  let helperStats = 0;
  return {
    stat(folder, names) {
      const shared = names.length >= SHARED_FROM ? helper.get() : undefined;
      if (shared === undefined) return statHere(folder, names);
      const counters = sharedCounters();
      const rows = new Float64Array(new SharedArrayBuffer(FIELDS * names.length * Float64Array.BYTES_PER_ELEMENT));
      shared.port.postMessage({ folder, names, counters: counters.buffer, rows: rows.buffer } satisfies StatJob);
      const failures = new Map<number, string>();
      helperStats += names.length - statChunks({ folder, names }, counters, rows, ({ index, code }) => failures.set(index, code));
      for (const { index, code } of waitForHelper(shared, counters, { stage: 'content', code: 'stat-helper-stopped', what: "helper thread held the records' stats" }) as StatFailure[]) failures.set(index, code);
      return statsOf(rows, failures);
    },
    get helperStats() {
      return helperStats;
    },
    close() {
      void helper.close();
    },
  };
}
