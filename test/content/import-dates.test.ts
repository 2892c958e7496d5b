/**
 * The date forms wire copy uses, read by the importer (issue 15 §2): the README lists them. Texts
 * are written inline; the importer's seed fixtures live in import-raw.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importRawArticle } from '../../src/content/import-raw.js';
import { parseWireDate, WIRE_DATE_EXAMPLES } from '../../src/content/wire-date.js';
import { createWorkspace, REPOSITORY, type Workspace } from '../support/cli-workspace.js';

const ZONE = 'Europe/Kyiv';

describe('parseWireDate', () => {
  it.each([
    ['2025-07-31T18:02:00-04:00', '2025-07-31T22:02:00.000Z'],
    ['2025-07-31T18:02:00Z', '2025-07-31T18:02:00.000Z'],
    ['2025-07-31 18:02:00', '2025-07-31T15:02:00.000Z'],
    ['2025-07-31 18:02', '2025-07-31T15:02:00.000Z'],
    ['July 31, 2025 6:02 PM EDT', '2025-07-31T22:02:00.000Z'],
    ['Jul 31, 2025 18:02 UTC', '2025-07-31T18:02:00.000Z'],
    ['Jul. 31, 2025 6:02 p.m. EDT', '2025-07-31T22:02:00.000Z'],
    ['31 July 2025 18:02', '2025-07-31T15:02:00.000Z'],
    ['31 July 2025 18:02 +01:00', '2025-07-31T17:02:00.000Z'],
    ['July 31, 2025 at 6:02 pm GMT-4', '2025-07-31T22:02:00.000Z'],
    ['31 Jul 2025 18:02:30 EEST', '2025-07-31T15:02:30.000Z'],
  ])('reads %s', (text, instant) => {
    const result = parseWireDate(text, ZONE);
    expect(result.ok && result.time.toUTC().toISO()).toBe(instant);
  });

  it.each([
    ['July 31, 2025 6:02 PM XYZ', 'the zone "XYZ" is not one it knows'],
    ['Julyy 31, 2025 6:02 PM', 'the date "Julyy 31, 2025" cannot be read'],
    ['July 31, 2025 25:02', 'the time "25:02" cannot be read'],
    ['July 31, 2025', 'no time of day in "July 31, 2025"'],
  ])('says which part of %s it cannot read', (text, problem) => {
    const result = parseWireDate(text, ZONE);
    expect(result.ok ? 'read' : result.problem).toContain(problem);
  });

  it('refuses a hostile megabyte-long date line at once instead of scanning it', () => {
    const started = performance.now();
    const result = parseWireDate(`1 ${'T,'.repeat(500_000)}`, ZONE);
    expect(result.ok ? 'read' : result.problem).toMatch(/too long to be a date/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reads every example the README lists, and the README lists them', () => {
    const readme = readFileSync(path.join(REPOSITORY, 'README.md'), 'utf8');
    for (const example of WIRE_DATE_EXAMPLES) {
      expect(parseWireDate(example, ZONE).ok).toBe(true);
      expect(readme).toContain(`\`${example}\``);
    }
  });
});

describe('importRawArticle date lines', () => {
  it('finds a Published line that follows the headline without a blank line', () => {
    const record = importRawArticle('Talks resume in Istanbul\nPublished: July 31, 2025 6:02 PM EDT | Views: 12\n\nDelegations met on Thursday.\n', { file: 'wire.txt', timeZone: ZONE, source: 'Test Wire' });
    expect(record.frontMatter.title).toBe('Talks resume in Istanbul');
    expect(record.frontMatter.published).toBe('2025-07-31T18:02:00-04:00');
    expect(record.body).toBe('Delegations met on Thursday.');
  });

  it('names the line and the part it cannot read', () => {
    expect(() => importRawArticle('Headline\nPublished: July 31, 2025 6:02 PM XYZ\n\nText.', { file: 'wire.txt', timeZone: ZONE, source: 'S' })).toThrow(
      /import: wire\.txt:2: Published: "Published: July 31, 2025 6:02 PM XYZ" is not a date it can read: the zone "XYZ" is not one it knows/,
    );
  });
});

describe('briefing import', () => {
  let workspace: Workspace | undefined;
  let folder: string | undefined;
  afterEach(() => {
    workspace?.remove();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
    workspace = undefined;
    folder = undefined;
  });

  it('refuses a text that names no source instead of writing "source: unknown", naming the file', async () => {
    workspace = await createWorkspace();
    folder = mkdtempSync(path.join(tmpdir(), 'briefing-wire-'));
    const file = path.join(folder, 'wire.txt');
    writeFileSync(file, 'Talks resume in Istanbul\nPublished: July 31, 2025 6:02 PM EDT\n\nDelegations met on Thursday.\n');
    const refused = await workspace.run(['import', file, '--out', 'records']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`import: ${file}: source: the text names no source: give the attribution with --source NAME`);
    const imported = await workspace.run(['import', file, '--out', 'records', '--source', 'Test Wire']);
    expect(imported.code).toBe(0);
    const [name] = readdirSync(path.join(workspace.root, 'records'));
    const record = readFileSync(path.join(workspace.root, 'records', name ?? ''), 'utf8');
    expect(record).toMatch(/^source: Test Wire$/m);
    expect(record).toMatch(/^published: 2025-07-31T18:02:00-04:00$/m);
  });

  it('names the line where an unclosed quote opens, not where the front matter ends', async () => {
    workspace = await createWorkspace();
    writeFileSync(path.join(workspace.root, 'content', 'broken.md'), '---\ntitle: "Talks resume\npublished: 2025-07-31T18:02:00Z\nsource: Test Wire\n---\nText.\n');
    const result = await workspace.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/content\/broken\.md:2: invalid YAML: Missing closing "quote \(the quote opens on this line\)/);
  });
});
