/**
 * Extra article records that make a build write real amounts of data (long feeds, archive pages,
 * article pages), dated in June 2025 so they stay out of the July editions.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const PARAGRAPH =
  'Delegations met again to compare lists of prisoners, and officials on both sides said the exchange could take weeks to arrange. ' +
  'Observers noted that the talks had produced little beyond humanitarian steps, while protests over the anti-corruption law went on.';

/** The text of filler record `n`; `revision` changes its title (and so every file that shows it). */
export function fillerRecord(n: number, revision = 0, paragraphs = 12): string {
  const day = String((n % 28) + 1).padStart(2, '0');
  const hour = String(n % 24).padStart(2, '0');
  const title = `Filler story ${n}${revision === 0 ? '' : `, revision ${revision}`}`;
  const body = Array.from({ length: paragraphs }, (_, index) => `${PARAGRAPH} (${n}.${index})`).join('\n\n');
  return `---\ntitle: ${title}\npublished: 2025-06-${day}T${hour}:00:00+03:00\nsource: Test desk\n---\n${body}\n`;
}

/** The file name of filler record `n`. */
export function fillerName(n: number): string {
  return `2025-06-filler-${String(n).padStart(3, '0')}.md`;
}

/** Writes fillers 1…count into a content folder. */
export function writeFillers(contentDir: string, count: number, paragraphs = 12): void {
  for (let n = 1; n <= count; n += 1) writeFileSync(path.join(contentDir, fillerName(n)), fillerRecord(n, 0, paragraphs));
}
