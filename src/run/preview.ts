import path from 'node:path';
import { messageOptions } from '../delivery/deliver-edition.js';
import { personaliseMessage, prepareMessage } from '../delivery/message.js';
import { editionFolder, neutralLinks, webVersionFiles } from '../email/web-version.js';
import { writeOutputFiles } from '../output/write-output-files.js';
import { loadContent } from './load-content.js';
import { openEdition, type OpenedEdition } from './open-edition.js';
import { resolveTarget } from './open-slot-edition.js';
import type { RunContext } from './run-context.js';

/** The recipient of the preview's .eml: a reserved example address, and no working unsubscribe token. */
const SAMPLE_ADDRESS = 'reader@example.com';
const SAMPLE_NAME = 'Sample Reader';

/** What a preview made: the edition, and for one with content the files written and their sizes. */
export type PreviewReport =
  | { kind: 'skipped'; opened: OpenedEdition & { kind: 'skipped' } }
  | {
      kind: 'written';
      opened: OpenedEdition & { kind: 'ready' };
      /** Where the web version, the text and the sample message were written. */
      files: { html: string; text: string; eml: string };
      bytes: { html: number; text: number; eml: number };
    };

/**
 * `briefing preview`: plans and renders edition `date` (the due one by default) without recording it
 * (the store is only read, for the previous edition) and writes its web version, text and the
 * message a sample subscriber would get (unsigned: it is never sent) under output/editions/D/.
 */
export async function previewEdition(context: RunContext, input: { date?: string }): Promise<PreviewReport> {
  const config = context.config();
  const articles = await loadContent(config);
  const target = resolveTarget(config, context.clock.now(), input.date);
  const store = await context.openStore();
  let opened;
  try {
    opened = await openEdition({ config, store, articles, clock: context.clock }, { target, stored: undefined, persist: false });
  } finally {
    await store.close();
  }
  if (opened.kind === 'skipped') return { kind: 'skipped', opened };
  const { briefing } = opened;
  const files = webVersionFiles(config, briefing);
  const message = personaliseMessage(
    prepareMessage(briefing, messageOptions(config, undefined)),
    { subscriberId: null, address: SAMPLE_ADDRESS, name: SAMPLE_NAME, ...neutralLinks(config.siteUrl) },
    context.clock.now(),
  );
  const folder = editionFolder(briefing.editionId);
  const names = { html: `${folder}/index.html`, text: `${folder}/briefing.txt`, eml: `${folder}/briefing.eml` };
  // Atomic writes: the web server never serves half a file.
  await writeOutputFiles(config.paths.output, new Map<string, string | Uint8Array>([...files, [names.eml, message.raw]]));
  return {
    kind: 'written',
    opened,
    files: { html: path.join(config.paths.output, names.html), text: path.join(config.paths.output, names.text), eml: path.join(config.paths.output, names.eml) },
    bytes: { html: Buffer.byteLength(briefing.html), text: Buffer.byteLength(briefing.text), eml: message.raw.length },
  };
}
