import path from 'node:path';
import { previewEdition } from '../../run/preview.js';
import type { CliContext } from '../context.js';

interface PreviewOptions {
  date?: string;
  json?: boolean;
}

/**
 * `briefing preview [--date D] [--json]`: plans and renders edition D without recording it (the
 * store is only read, for the previous edition) and writes `output/editions/D/index.html` (the web
 * version), `briefing.txt` and `briefing.eml` (the message a subscriber would get); prints the
 * subject, the sections and the sizes.
 */
export default async function preview(context: CliContext, options: PreviewOptions): Promise<number> {
  const config = context.config();
  const report = await previewEdition(context, options.date === undefined ? {} : { date: options.date });
  if (report.kind === 'skipped') {
    const { opened } = report;
    context.print(options.json ? JSON.stringify({ edition: opened.id, date: opened.date, skipped: true, message: opened.message }) : opened.message);
    return 0;
  }
  const { opened } = report;
  const { briefing } = opened;
  const { files: written, bytes: sizes } = report;
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
