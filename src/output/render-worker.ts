/**
 * The helper thread of a large build (see shared-render.ts): it makes the plan the building thread
 * made, from the same inputs, and renders and writes the jobs it takes of each batch it is sent,
 * taking them from the batch's shared counter as the building thread does.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { hold, release, stopTaking, takeNext } from '../batch-counters.js';
import { spooledArticles } from '../content/article-spool.js';
import { BriefingError } from '../errors.js';
import { parseManifest } from './build-manifest.js';
import { planSiteBuild, type SiteBuildPlan } from './plan-site-build.js';
import { renderBatch } from './render-batch.js';
import type { RenderBatchMessage, RenderHelperSetup, RenderReply } from './shared-render.js';
import { compileSiteTemplates } from './site-templates.js';

const { setup, port } = workerData as { setup: RenderHelperSetup; port: MessagePort };
const existing = new Set(setup.existing);
const absent = (relative: string): boolean => !existing.has(relative);

/** The plan, or none where it cannot be made or differs from the building thread's (then this thread takes nothing). */
function makePlan(): SiteBuildPlan | undefined {
  try {
    const plan = planSiteBuild({
      articles: spooledArticles(setup.articles),
      site: setup.site,
      templates: compileSiteTemplates(setup.templates, setup.templatesFolder),
      buildKey: setup.buildKey,
      previous: parseManifest(setup.manifestText),
      existing,
    });
    return plan.rendered === setup.expected.rendered && plan.batches.length === setup.expected.batches ? plan : undefined;
  } catch {
    return undefined;
  } finally {
    // Read once: not kept for the whole build.
    setup.manifestText = undefined;
    setup.existing = [];
  }
}

async function render(plan: SiteBuildPlan, message: RenderBatchMessage): Promise<void> {
  const counters = new Int32Array(message.counters);
  // Held before taking, and until what was taken is written: the building thread waits for that.
  hold(counters);
  try {
    let reply: RenderReply;
    try {
      const jobs = plan.batches[message.number];
      if (jobs === undefined) throw new Error(`the plan has no batch ${message.number}`);
      const result = await renderBatch(jobs, setup.outputDir, absent, () => takeNext(counters));
      reply = { number: message.number, result };
    } catch (error) {
      // The batch ends here for both threads: the build fails with this error.
      stopTaking(counters);
      const failure =
        error instanceof BriefingError
          ? { stage: error.stage, code: error.code, message: error.message, problems: error.problems, exitCode: error.exitCode }
          : { stack: error instanceof Error ? (error.stack ?? error.message) : String(error) };
      reply = { number: message.number, failure };
    }
    port.postMessage(reply);
  } finally {
    release(counters);
  }
}

const plan = makePlan();
if (plan !== undefined) {
  // One batch after the other, as they are sent.
  let queue = Promise.resolve();
  port.on('message', (message: RenderBatchMessage) => {
    queue = queue.then(() => render(plan, message));
  });
}
