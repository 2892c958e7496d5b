/**
 * The worker thread of compileMjml: compiles one filled MJML document and posts the result, so
 * MJML's modules live (and die) with this thread instead of the process that sends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TemplateSource } from './briefing-templates.js';
import { compileToReply } from './compile-mjml.js';

const { filled, sources } = workerData as { filled: string; sources: TemplateSource[] };
parentPort?.postMessage(await compileToReply(filled, sources));
