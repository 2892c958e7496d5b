import type { Article } from './article.js';
import { revivePackedArticle, type PackedArticle } from './article-spool.js';
import { NEXT, lazyHelperThread, sharedCounters, waitForHelper } from './helper-thread.js';
import type { ArticleRules, Parsed } from './parse-article.js';

/** What a record parses into: the article, or, for a build, the article packed by the thread that parsed it. */
export type ParsedArticle = Parsed<Article | PackedArticle>;

/** One record to parse: its text, the path shown in its problems, its id. */
export interface RecordToParse {
  text: string;
  file: string;
  id: string;
}

/** A batch sent to the helper thread; `counters` (two Int32 slots, NEXT and BUSY) is shared with it. */
export interface ParseBatch {
  id: number;
  records: readonly RecordToParse[];
  counters: SharedArrayBuffer;
  /** Post each article packed (see packArticle), not whole. */
  pack: boolean;
}

/** What the helper posts back for each record it took. */
export type ParsedRecord = { batch: number; index: number; result: ParsedArticle; failure?: undefined } | { batch: number; index: number; failure: string; result?: undefined };

/** Fewer records than this are parsed here: a helper thread costs more to start than they take. */
const SHARED_FROM = 16;

/** The helper's young generation, in MB (see createSharedParser). */
const HELPER_YOUNG_GENERATION_MB = 8;

/** A batch handed out: its records are taken by both threads from the moment it is begun. */
export interface BegunBatch {
  /** Parses what the helper has not taken, waits for what it holds; the results in the records' order. */
  finish(): ParsedArticle[];
}

/** Parses batches of records on this thread and, for larger ones, a helper thread beside it. */
export interface SharedParser {
  /**
   * Offers a batch to the helper thread at once, so it parses while this thread does other work
   * (reads the next records, keeps the last ones); `finish` parses the rest here.
   */
  begin(records: readonly RecordToParse[]): BegunBatch;
  /** Records the helper thread parsed so far. */
  readonly helperParsed: number;
  /** Stops the helper thread, if one was started. */
  close(): void;
}

/**
 * A parser that shares each batch with a helper thread (started at the first batch large enough):
 * both take records from the batch's shared counter until none is left, so the helper takes what it
 * can while it starts and the loading thread never waits for more than the record the helper holds.
 * The load stays synchronous, as the build after it: the loading thread waits with `Atomics.wait`
 * and reads the helper's results with `receiveMessageOnPort`, never through the event loop. Parsing
 * is a pure function of the text, so which thread parsed a record does not change a byte.
 */
export function createSharedParser(rules: ArticleRules, parseHere: (record: RecordToParse) => ParsedArticle, pack: boolean): SharedParser {
  // Its young generation kept small: V8's default growth added some 40 MB to the peak of a
  // 10,000-record build for a tenth of its load time.
  const helper = lazyHelperThread('parse-worker.js', { rules: { topics: rules.topics, timeZone: rules.timeZone } }, HELPER_YOUNG_GENERATION_MB);
  let batches = 0;
  let helperParsed = 0;
  /** Replies to a batch begun after the one being finished. */
  const early: ParsedRecord[] = [];

  return {
    begin(records) {
      const shared = records.length >= SHARED_FROM ? helper.get() : undefined;
      const counters = sharedCounters();
      batches += 1;
      const batch = batches;
      if (shared !== undefined) shared.port.postMessage({ id: batch, records, counters: counters.buffer, pack } satisfies ParseBatch);
      return {
        finish() {
          const results: Array<ParsedArticle | undefined> = new Array(records.length);
          for (let index = Atomics.add(counters, NEXT, 1); index < records.length; index = Atomics.add(counters, NEXT, 1)) {
            results[index] = parseHere(records[index] as RecordToParse);
          }
          if (shared === undefined) return results as ParsedArticle[];
          // Every record is taken: wait for those the helper holds, then collect what it posted
          // (replies to a later batch, begun already, are kept for its own finish).
          const posted = waitForHelper(shared, counters, { stage: 'content', code: 'parse-helper-stopped', what: 'parsing helper thread held a record' }) as ParsedRecord[];
          for (const reply of [...early.splice(0), ...posted]) place(reply);
          const missing = results.findIndex((result) => result === undefined);
          if (missing !== -1) throw new Error(`the parsing helper thread took ${records[missing]?.file ?? 'a record'} and sent nothing back`);
          return results as ParsedArticle[];

          function place(reply: ParsedRecord): void {
            if (reply.batch !== batch) {
              early.push(reply);
              return;
            }
            if (reply.failure !== undefined) throw new Error(`parsing ${records[reply.index]?.file ?? 'a record'} failed in the helper thread: ${reply.failure}`);
            // A packed article's buffers arrive as plain byte arrays.
            const article = reply.result.article;
            results[reply.index] = pack && article !== undefined ? { article: revivePackedArticle(article as PackedArticle) } : reply.result;
            helperParsed += 1;
          }
        },
      };
    },
    get helperParsed() {
      return helperParsed;
    },
    close() {
      void helper.close();
    },
  };
}
