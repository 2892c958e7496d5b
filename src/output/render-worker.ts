/**
 * The helper thread of a build that renders many files (see shared-render.ts): it makes the build's
 * plan from what it is sent, reads the articles through the spool's descriptor, and renders and
 * writes the jobs of each batch it takes from the batch's shared counter, as the building thread does.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { readSpoolTable } from '../content/article-spool.js';
import { BUSY } from '../content/helper-thread.js';
import { OutputPathMap } from './output-path-map.js';
import { planSiteBuild } from './plan-site-build.js';
import { batchCounters, claimer, describeFailure, doneSlot, STOP, type RenderHelperData, type RenderReply, type RenderShareJob } from './shared-render.js';
import { compileSiteTemplates } from './site-templates.js';
import { writeRenderJobs } from './write-render-jobs.js';

const { port, site, sources, folderName, outputDir } = workerData as RenderHelperData & { port: MessagePort };
const templates = compileSiteTemplates(sources, folderName);

port.on('message', (job: RenderShareJob) => {
  void renderShare(job);
});

async function renderShare(job: RenderShareJob): Promise<void> {
  const counters = new Int32Array(job.counters);
  const existing = OutputPathMap.revive(job.existing);
  const previous = job.previous === undefined ? undefined : { version: 2 as const, buildKey: job.previous.buildKey, outputs: OutputPathMap.revive(job.previous.outputs) };
  const plan = planSiteBuild({ articles: readSpoolTable(job.table), site, templates, buildKey: job.buildKey, previous, existing });
  const batches = plan.batches.length;
  const done = doneSlot(batches);
  for (const [number, batch] of plan.batches.entries()) {
    const shared = batchCounters(counters, number);
    // Busy before taking a job, until its files are written: the building thread waits for 0.
    Atomics.add(shared, BUSY, 1);
    let reply: RenderReply;
    try {
      const counts = await writeRenderJobs(outputDir, batch, { absent: (relative) => !existing.has(relative), claim: claimer(counters, number, batches) });
      reply = { batch: number, counts };
    } catch (error) {
      reply = { batch: number, failure: describeFailure(error) };
      // The building thread takes no more jobs either: the build fails with this at the batch's end.
      Atomics.store(counters, done, STOP);
      Atomics.notify(counters, done);
    }
    port.postMessage(reply);
    Atomics.sub(shared, BUSY, 1);
    Atomics.notify(shared, BUSY);
    if (reply.failure !== undefined) return;
    // The next batch only once the building thread has written its share of this one.
    for (let finished = Atomics.load(counters, done); finished !== STOP && finished <= number; finished = Atomics.load(counters, done)) {
      Atomics.wait(counters, done, finished);
    }
    if (Atomics.load(counters, done) === STOP) return;
  }
}
