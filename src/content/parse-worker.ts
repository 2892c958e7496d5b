/**
 * The helper thread of a load that parses many records (see shared-parse.ts): it parses records of
 * each batch it is sent, taking them one at a time from the batch's shared counter, as the loading
 * thread does, and posts each result back (packed for a build) before it says it is done with that record.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { packArticle, packedTransfers } from './article-spool.js';
import { createArticleParser, type ArticleRules } from './parse-article.js';
import { BUSY, NEXT } from './helper-thread.js';
import type { ParseBatch, ParsedRecord, RecordToParse } from './shared-parse.js';

const { rules, port } = workerData as { rules: ArticleRules; port: MessagePort };
const parser = createArticleParser(rules);

port.on('message', (batch: ParseBatch) => {
  const counters = new Int32Array(batch.counters);
  for (;;) {
    // Busy before taking: the loading thread waits for busy 0, so it never misses a record taken here.
    Atomics.add(counters, BUSY, 1);
    const index = Atomics.add(counters, NEXT, 1);
    if (index >= batch.records.length) {
      Atomics.sub(counters, BUSY, 1);
      Atomics.notify(counters, BUSY);
      return;
    }
    // Below the batch's length, so a record is there.
    const record = batch.records[index] as RecordToParse;
    let reply: ParsedRecord;
    let transfers: ArrayBuffer[] = [];
    try {
      const result = parser.parse(record.text, record.file, record.id);
      if (batch.pack && result.article !== undefined) {
        // Encoded here, moved (not copied) to the loading thread, which then only writes the bytes.
        const packed = packArticle(result.article);
        transfers = packedTransfers(packed);
        reply = { batch: batch.id, index, result: { article: packed } };
      } else {
        reply = { batch: batch.id, index, result };
      }
    } catch (error) {
      reply = { batch: batch.id, index, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    port.postMessage(reply, transfers);
    Atomics.sub(counters, BUSY, 1);
    Atomics.notify(counters, BUSY);
  }
});
