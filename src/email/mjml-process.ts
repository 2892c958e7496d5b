/**
 * The child process of compileMjml: receives the filled MJML documents over the IPC channel,
 * compiles them, sends the reply back and exits. MJML's modules, and the memory its compiler
 * leaves behind, go with this process instead of staying in the one that sends.
 */
import type { TemplateSource } from './briefing-templates.js';
import { compileToReply } from './compile-mjml.js';

// Loading MJML starts at once, before the documents come: the parent starts this process ahead of
// its render (startMjmlRenderer). A failure here is met again, and reported, by the compile.
void import('mjml').catch(() => undefined);

process.once('message', (request: { documents: string[]; sources: TemplateSource[] }) => {
  void compileToReply(request.documents, request.sources).then((reply) => {
    // Exits once the reply is sent: nothing MJML may have left open keeps the sender waiting.
    process.send?.(reply, () => process.exit(0));
  });
});
