import { stringify } from 'yaml';
import type { ImportedRecord } from './import-raw.js';

/**
 * Writes a record as the text of a `content/*.md` file: YAML front matter between `---` lines, then
 * the Markdown body. The YAML library quotes whatever needs it, so any title or caption is safe.
 */
export function formatRecord(record: Pick<ImportedRecord, 'frontMatter' | 'body'>): string {
  const yaml = stringify(record.frontMatter, { lineWidth: 0, defaultKeyType: 'PLAIN', aliasDuplicateObjects: false });
  return ['---', yaml.trimEnd(), '---', '', record.body.trim(), ''].join('\n');
}
