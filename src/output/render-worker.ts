/**
 * The helper thread of a large build (see shared-render.ts): it makes the plan the building thread
 * made, from the same inputs, and renders and writes the jobs it takes of each batch it is sent,
 * taking them from the batch's shared counter as the building thread does.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { spooledArticles } from '../content/article-spool.js';
import { BriefingError } from '../errors.js';
import { hold, release, takeNext } from '../batch-counters.js';
import { parseManifest } from './build-manifest.js';
import { planSiteBuild, type SiteBuildPlan } from './plan-site-build.js';
import { renderBatch } from './render-batch.js';
import type { RenderBatchMessage, RenderHelperSetup, RenderReply } from './shared-render.js';
import { compileSiteTemplates } from './site-templates.js';

const { setup, port } = workerData as { setup: RenderHelperSetup; port: MessagePort };
const existing = new Set(setup.existing);

function makePlan(): SiteBuildPlan {
  const articles = spooledArticles(setup.articles);
  return planSiteBuild({
    articles,
    site: setup.site,
    templates: compileSiteTemplates(setup.templates, setup.templatesFolder),
    buildKey: setup.buildKey,
    previous: parseManifest(setup.manifestText),
    existing,
  });
}

async function render(plan: SiteBuildPlan, message: RenderBatchMessage): Promise<void> {
  const counters = new Int32Array(message.counters);
  // Held before taking, and until what was taken is written: the building thread waits for that.
  hold(counters);
  let reply: RenderReply;
  try {
    const jobs = plan.batches[message.number] ?? [];
    const result = await renderBatch(jobs, setup.outputDir, (relative) => !existing.has(relative), () => takeNext(counters));
    reply = { number: message.number, result };
  } catch (error) {
    const failure =
      error instanceof BriefingError ? { stage: error.stage, code: error.code, message: error.message } : { stack: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    reply = { number: message.number, failure };
  }
  port.postMessage(reply);
  release(counters);
}

/** The plan, or none (no share: the building thread takes every job, and reports what is wrong itself). */
function planOrNone(): SiteBuildPlan | undefined {
  try {
    return makePlan();
  } catch {
    return undefined;
  }
}

const plan = planOrNone();
if (plan !== undefined) {
  // One batch after the other, as they are sent.
  let queue = Promise.resolve();
  port.on('message', (message: RenderBatchMessage) => {
    queue = queue.then(() => render(plan, message));
  });
}
