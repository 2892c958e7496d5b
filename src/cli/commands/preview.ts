import path from 'node:path';
import { loadArticles } from '../../content/load-articles.js';
import { prepareMessage, personaliseMessage } from '../../delivery/message.js';
import { openEdition } from '../../edition/open-edition.js';
import { editionFolder, webVersionFiles } from '../../email/web-version.js';
import { writeOutputFiles } from '../../output/write-output-files.js';
import type { CliContext } from '../context.js';

interface PreviewOptions {
  date?: string;
  json?: boolean;
}

/** The recipient of the preview's .eml: a reserved example address, and no working unsubscribe token. */
const SAMPLE_ADDRESS = 'reader@example.com';
const SAMPLE_NAME = 'Sample Reader';

/**
 * `briefing preview [--date D] [--json]`: plans and renders edition D without recording it (the
 * store is only read, for the previous edition) and writes `output/editions/D/index.html` (the web
 * version), `briefing.txt` and `briefing.eml` (the message a subscriber would get); prints the
 * subject, the sections and the sizes.
 */
export default async function preview(context: CliContext, options: PreviewOptions): Promise<number> {
  const config = context.config();
  const articles = await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
  const store = await context.openStore();
  let opened;
  try {
    opened = await openEdition({ config, store, articles, clock: context.clock }, { persist: false, ...(options.date === undefined ? {} : { date: options.date }) });
  } finally {
    await store.close();
  }
  if (opened.kind === 'skipped') {
    context.print(options.json ? JSON.stringify({ edition: opened.id, date: opened.date, skipped: true, message: opened.message }) : opened.message);
    return 0;
  }
  const { briefing } = opened;
  const files = webVersionFiles(config, briefing);
  const message = personaliseMessage(
    prepareMessage(briefing, { sender: config.sender, listId: config.listId, listName: config.title, timeZone: config.timeZone }),
    { subscriberId: null, address: SAMPLE_ADDRESS, name: SAMPLE_NAME, unsubscribeUrl: `${config.siteUrl}unsubscribe` },
    context.clock.now(),
  );

  const folder = editionFolder(briefing.editionId);
  const names = { html: `${folder}/index.html`, text: `${folder}/briefing.txt`, eml: `${folder}/briefing.eml` };
  // Atomic writes: the web server never serves half a file.
  await writeOutputFiles(config.paths.output, new Map<string, string | Uint8Array>([...files, [names.eml, message.raw]]));
  const written = { html: path.join(config.paths.output, names.html), text: path.join(config.paths.output, names.text), eml: path.join(config.paths.output, names.eml) };

  const sizes = { html: Buffer.byteLength(briefing.html), text: Buffer.byteLength(briefing.text), eml: message.raw.length };
  const shown = (file: string): string => path.relative(process.cwd(), file) || file;
  if (options.json) {
    context.print(
      JSON.stringify({
        edition: opened.id,
        date: opened.date,
        slot: opened.slot.toISOString(),
        window: { since: opened.window.since.toISOString(), until: opened.window.until.toISOString() },
        subject: briefing.subject,
        preheader: briefing.preheader,
        sections: opened.outline.sections,
        bytes: sizes,
        maxHtmlBytes: config.edition.maxHtmlBytes,
        files: { html: shown(written.html), text: shown(written.text), eml: shown(written.eml) },
      }),
    );
    return 0;
  }
  context.print(`Edition ${opened.id} (${opened.date})`);
  context.print(`Subject: ${briefing.subject}`);
  for (const section of opened.outline.sections) {
    context.print(`  ${section.title}: ${section.stories} ${section.stories === 1 ? 'story' : 'stories'}, ${section.paragraphs} ${section.paragraphs === 1 ? 'paragraph' : 'paragraphs'}`);
  }
  context.print(`HTML ${(sizes.html / 1000).toFixed(1)} KB of ${(config.edition.maxHtmlBytes / 1000).toFixed(1)} KB, text ${(sizes.text / 1000).toFixed(1)} KB, message ${(sizes.eml / 1000).toFixed(1)} KB`);
  context.print(`Wrote ${shown(written.html)}, ${shown(written.text)}, ${shown(written.eml)}`);
  return 0;
}
