import type { SpoolTable } from '../content/article-spool.js';
import { BUSY, lazyHelperThread, NEXT, waitForHelper } from '../content/helper-thread.js';
import { BriefingError, type Problem, type Stage } from '../errors.js';
import type { FeedSite } from '../feed/feed-site.js';
import type { BuildManifest } from './build-manifest.js';
import type { OutputPathMap } from './output-path-map.js';
import type { PageSite } from './site-pages.js';
import type { SiteTemplateSources } from './site-templates.js';
import type { WrittenCounts } from './write-render-jobs.js';

/** Fewer files to render than this are rendered on one thread: a helper costs more to start than they take. */
export const SHARED_RENDER_FROM = 200;

/** The helper's young generation, in MB: V8's default lets it grow to 32 MB, most of it peak memory. */
const HELPER_YOUNG_GENERATION_MB = 8;

/** What the rendering helper is started with (its workerData, besides its port). */
export interface RenderHelperData {
  site: FeedSite & PageSite;
  sources: SiteTemplateSources;
  /** The templates folder as problems name it. */
  folderName: string;
  outputDir: string;
}

/** A map of output paths as sent to another thread: its two maps. */
interface SentPathMap<V> {
  articlePages: Map<string, V>;
  others: Map<string, V>;
}

/** What the helper is sent for one build: what the plan is made from, and the counters it shares. */
export interface RenderShareJob {
  table: SpoolTable;
  buildKey: string;
  previous: { buildKey: string; outputs: SentPathMap<string> } | undefined;
  existing: SentPathMap<true>;
  counters: SharedArrayBuffer;
}

/** An error as the helper reports it: a BriefingError's parts, or the text of anything else. */
export type RenderFailure = { stage: Stage; code: string; message: string; problems: readonly Problem[]; exitCode: number } | { text: string };

/** What the helper posts when it is done with its share of a batch. */
export type RenderReply = { batch: number } & ({ counts: WrittenCounts; failure?: undefined } | { failure: RenderFailure; counts?: undefined });

/**
 * Shared counters: for each batch its NEXT and BUSY (see helper-thread.ts), then DONE, the number of
 * batches this thread has finished with the helper, or STOP.
 */
export const STOP = -1;
export function doneSlot(batches: number): number {
  return 2 * batches;
}
export function batchCounters(counters: Int32Array<SharedArrayBuffer>, batch: number): Int32Array<SharedArrayBuffer> {
  return counters.subarray(2 * batch, 2 * batch + 2);
}

/** How a thread claims jobs of a batch from its shared counter; none once the share is stopped. */
export function claimer(counters: Int32Array<SharedArrayBuffer>, batch: number, batches: number): () => number {
  const shared = batchCounters(counters, batch);
  return () => (Atomics.load(counters, doneSlot(batches)) === STOP ? Number.POSITIVE_INFINITY : Atomics.add(shared, NEXT, 1));
}

/** The failure a helper reports, as it would have been thrown here. */
export function describeFailure(error: unknown): RenderFailure {
  if (error instanceof BriefingError) {
    return { stage: error.stage, code: error.code, message: error.message.slice(error.stage.length + 2), problems: error.problems, exitCode: error.exitCode };
  }
  return { text: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

function reviveFailure(failure: RenderFailure): Error {
  if ('text' in failure) return new Error(`rendering in the helper thread failed: ${failure.text}`);
  return new BriefingError(failure.stage, failure.code, failure.message, { problems: failure.problems, exitCode: failure.exitCode });
}

/** A build's rendering shared with a helper thread, batch by batch. */
export interface RenderShare {
  /** How this thread claims the jobs of a batch. */
  claim(batch: number): () => number;
  /**
   * Waits until the helper has written its share of the batch (this thread has written its own),
   * lets it go on to the next batch, and gives what it wrote; its failure is thrown here.
   */
  finish(batch: number): WrittenCounts;
  /**
   * Stops the helper (it takes no more jobs), waits for what it holds, and ends its thread: settled
   * once the thread has ended, so the spool it reads can be closed.
   */
  close(): Promise<void>;
}

/** A rendering helper thread, started ahead of the plan it will share (its modules and templates load meanwhile). */
export interface RenderHelper {
  /** Shares this build's rendering with it (once). */
  share(input: RenderShareInput): RenderShare;
  /** Ends its thread unused. */
  close(): Promise<void>;
}

/** What a share is made from: the spooled articles as a table, and what the plan is made from besides. */
export interface RenderShareInput {
  table: SpoolTable;
  buildKey: string;
  previous: BuildManifest | undefined;
  existing: OutputPathMap<true>;
  batches: number;
}

/**
 * Starts a helper thread to share a build's rendering with. Both threads make the same plan from the
 * same inputs (the helper reads the articles through the spool's descriptor) and take the jobs of
 * each batch from a shared counter, so each job is rendered once, by whichever thread is free. The
 * batches keep their order: neither thread begins a batch before the other has written its share
 * of the last one, so a page never links to a file not yet written. Rendering is a pure function of
 * the plan, so which thread rendered a file does not change a byte. None (all is rendered here) when
 * the helper cannot start, as when running the TypeScript sources.
 */
export function startRenderHelper(data: RenderHelperData): RenderHelper | undefined {
  const thread = lazyHelperThread('../output/render-worker.js', { ...data }, HELPER_YOUNG_GENERATION_MB);
  const helper = thread.get();
  if (helper === undefined) return undefined;
  return {
    share(input) {
      const counters = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (doneSlot(input.batches) + 1)));
      const { table, buildKey, previous, existing, batches } = input;
      const job: RenderShareJob = {
        table,
        buildKey,
        previous: previous === undefined ? undefined : { buildKey: previous.buildKey, outputs: previous.outputs },
        existing,
        counters: counters.buffer,
      };
      helper.port.postMessage(job, [table.rows.buffer]);
      const collect = (batch: number): RenderReply[] =>
        waitForHelper(helper, batchCounters(counters, batch), { stage: 'output', code: 'render-helper-stopped', what: 'rendering helper thread held a page' }) as RenderReply[];
      const done = doneSlot(batches);
      return {
        claim: (batch) => claimer(counters, batch, batches),
        finish(batch) {
          const counts: WrittenCounts = { written: 0, unchanged: 0 };
          // A reply to an earlier batch may come late (the helper began it after this thread had taken every job): it wrote nothing.
          for (const reply of collect(batch)) {
            if (reply.failure !== undefined) throw reviveFailure(reply.failure);
            counts.written += reply.counts.written;
            counts.unchanged += reply.counts.unchanged;
          }
          Atomics.store(counters, done, batch + 1);
          Atomics.notify(counters, done);
          return counts;
        },
        async close() {
          Atomics.store(counters, done, STOP);
          Atomics.notify(counters, done);
          try {
            for (let batch = 0; batch < batches; batch += 1) collect(batch);
          } finally {
            // Ended, not only asked to end: a helper stuck in a job never reads the spool's descriptor once it is closed (or reused).
            await thread.close();
          }
        },
      };
    },
    close: () => thread.close(),
  };
}
