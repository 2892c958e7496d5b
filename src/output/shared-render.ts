import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { sharedCounters, stopTaking, takeNext, waitForHelper } from '../batch-counters.js';
import type { ArticleTable } from '../content/article-spool.js';
import { BriefingError, type Problem, type Stage } from '../errors.js';
import type { FeedSite } from '../feed/feed-site.js';
import type { BatchResult } from './render-batch.js';
import type { PageSite } from './site-pages.js';
import type { SiteTemplateSources } from './site-templates.js';

/**
 * What the helper thread needs to make the very plan the building thread made (see planSiteBuild:
 * the plan is a function of these), so both can take jobs of a batch by their index: the articles as
 * their places in the building thread's spool, which the helper reads through the same descriptor.
 */
export interface RenderHelperSetup {
  outputDir: string;
  site: FeedSite & PageSite;
  templates: SiteTemplateSources;
  /** The templates' folder as problems name it. */
  templatesFolder: string;
  buildKey: string;
  /** The last build's manifest, if it was made with this build key (another one renders everything). */
  manifestText: string | undefined;
  existing: string[];
  /** The articles, newest first, as a table of the spool (its arrays are moved to the helper). */
  articles: ArticleTable;
  /** What the building thread's plan came to: a helper whose plan differs takes nothing. */
  expected: { rendered: number; batches: number };
}

/** A batch of the plan handed to the helper: its number and its counters (see batch-counters.ts). */
export interface RenderBatchMessage {
  number: number;
  counters: SharedArrayBuffer;
}

/** A BriefingError as it crosses to the building thread. */
export interface ErrorOfStage {
  stage: Stage;
  code: string;
  message: string;
  problems: readonly Problem[];
  exitCode: number;
}

/** What the helper posts for a batch it took jobs of: what it did, or why it stopped. */
export type RenderReply =
  | { number: number; result: BatchResult; failure?: undefined }
  | { number: number; failure: ErrorOfStage | { stack: string }; result?: undefined };

/** A batch shared with the helper: this thread's way of taking its jobs, and the wait for the helper's share. */
export interface SharedBatch {
  take(): number;
  /** Waits for the jobs the helper took to be written; what it did. Throws what stopped it. */
  finish(): BatchResult;
}

/** Renders a build's batches on this thread and a helper thread beside it. */
export interface SharedRenderer {
  begin(number: number): SharedBatch;
  /** Files the helper rendered so far. */
  readonly helperRendered: number;
  /** Stops the helper; once settled, it reads nothing more (the spool may be closed). */
  close(): Promise<void>;
}

/** The helper's script in the compiled program (dist/); the sources (tests) render on one thread. */
const WORKER_SCRIPT = import.meta.url.endsWith('.ts') ? undefined : fileURLToPath(new URL('./render-worker.js', import.meta.url));

/** The helper's young generation, in MB: V8's default growth would add tens of MB to a build's peak. */
const HELPER_YOUNG_GENERATION_MB = 16;

/** Longest wait for the helper to write what it took (a slice of pages takes well under a second). */
const HELPER_TIMEOUT_MS = 60_000;

/** The helper's failure as this thread throws it: a BriefingError (a full disk, a broken template) stays one. */
function helperFailure(failure: Exclude<RenderReply['failure'], undefined>): Error {
  if ('stack' in failure) return new Error(`rendering failed in the helper thread: ${failure.stack}`);
  const prefix = `${failure.stage}: `;
  const message = failure.message.startsWith(prefix) ? failure.message.slice(prefix.length) : failure.message;
  return new BriefingError(failure.stage, failure.code, message, { problems: failure.problems, exitCode: failure.exitCode });
}

function stopped(): BriefingError {
  return new BriefingError('output', 'render-helper-stopped', `the rendering helper thread held its pages for ${HELPER_TIMEOUT_MS / 1000} s without writing them (a stalled disk?); run the build again`);
}

/**
 * Starts a helper thread that makes the same plan and takes jobs of each batch begun, as this thread
 * does, from the batch's shared counter; undefined where no helper can run (the sources, under
 * tests). Batches stay in order: a batch is finished, the helper's share written, before the next
 * begins, so no feed or list page is written before the article pages it lists. Rendering is
 * deterministic, so which thread rendered a file does not change a byte.
 */
export function startRenderHelper(setup: RenderHelperSetup): SharedRenderer | undefined {
  if (WORKER_SCRIPT === undefined) return undefined;
  let worker: Worker;
  let port: MessagePort;
  try {
    const channel = new MessageChannel();
    port = channel.port1;
    worker = new Worker(WORKER_SCRIPT, {
      workerData: { setup, port: channel.port2 },
      transferList: [channel.port2, setup.articles.numbers.buffer as ArrayBuffer, setup.articles.hashes.buffer as ArrayBuffer],
      resourceLimits: { maxYoungGenerationSizeMb: HELPER_YOUNG_GENERATION_MB },
    });
  } catch {
    return undefined;
  }
  // A helper that fails to start takes nothing, and this thread renders all; it never holds the process open.
  worker.on('error', () => undefined);
  worker.unref();
  let helperRendered = 0;
  /** The batch begun and not finished (a failed build): on close the helper is stopped taking from it. */
  let open: Int32Array | undefined;
  /** Whether the helper may still be reading the spool after close. */
  let stuck = false;
  return {
    begin(number) {
      const counters = sharedCounters();
      open = counters;
      port.postMessage({ number, counters: counters.buffer as SharedArrayBuffer } satisfies RenderBatchMessage);
      return {
        take: () => takeNext(counters),
        finish() {
          if (!waitForHelper(counters, HELPER_TIMEOUT_MS)) {
            stuck = true;
            throw stopped();
          }
          open = undefined;
          const total: BatchResult = { rendered: 0, written: 0, unchanged: 0 };
          for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
            const reply = received.message as RenderReply;
            if (reply.failure !== undefined) throw helperFailure(reply.failure);
            // A reply to an earlier batch the helper came to after it was finished: it took nothing.
            if (reply.number !== number) continue;
            total.rendered += reply.result.rendered;
            total.written += reply.result.written;
            total.unchanged += reply.result.unchanged;
          }
          helperRendered += total.rendered;
          return total;
        },
      };
    },
    get helperRendered() {
      return helperRendered;
    },
    async close() {
      port.close();
      if (open !== undefined && !stuck) {
        // A build stopped halfway: nothing more is taken, and the spool the helper reads stays open
        // (it is closed after this) until the job the helper holds is done.
        stopTaking(open);
        stuck = !waitForHelper(open, HELPER_TIMEOUT_MS);
      }
      // A helper that did not answer is stopped before the spool is closed under it (its descriptor's
      // number could be another file's by then).
      if (stuck) await worker.terminate();
      else void worker.terminate();
    },
  };
}
