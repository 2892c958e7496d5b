import type { Config } from '../config.js';
import { webVersionFiles } from '../email/web-version.js';
import { publishEditions } from '../output/publish-editions.js';
import { writeOutputFiles } from '../output/write-output-files.js';
import type { OpenedEdition } from './open-edition.js';

/**
 * Puts an edition that is going out on the site: its web version under editions/<id>/ and its entry in
 * the editions index and feeds. `briefing send` and every slot run do it before the first message,
 * so the link in the message works when it arrives.
 */
export async function publishEdition(config: Config, opened: Pick<OpenedEdition & { kind: 'ready' }, 'id' | 'date' | 'slot' | 'briefing'>): Promise<void> {
  const { briefing } = opened;
  await writeOutputFiles(config.paths.output, webVersionFiles(config, briefing));
  await publishEditions(config, {
    edition: { id: opened.id, date: opened.date, slot: opened.slot.toISOString(), subject: briefing.subject, preheader: briefing.preheader },
  });
}
