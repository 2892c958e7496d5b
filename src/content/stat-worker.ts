/**
 * The helper thread of a resident load's stats (see record-stats.ts): it takes chunks of the names of
 * each job it is sent from the job's shared counter, as the loading thread does, writes their stamps
 * into the shared rows and posts each `stat` that failed before it says it is done with the chunk.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { statChunks, type StatFailure, type StatJob } from './record-stats.js';

const { port } = workerData as { port: MessagePort };

port.on('message', (job: StatJob) => {
  statChunks(job, new Int32Array(job.counters), new Float64Array(job.rows), (failure: StatFailure) => port.postMessage(failure), true);
});
