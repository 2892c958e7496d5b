/**
 * What the tests read besides their own code: material the repository owns, which the core suite
 * uses, and reference material that may sit beside a checkout in `../shared` (RFC 4287's own schema,
 * the two raw seed texts). A fresh clone has no `../shared`, so only the conformance pass reads it:
 * its tests run when the files are there and are skipped, saying so, when they are not.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const RAW = path.join(REPOSITORY, 'test/fixtures/raw');
const SHARED = path.resolve(REPOSITORY, '../shared');

/** Raw news texts in the seeds' format, written for this repository: one with a date, one without. */
export const RAW_TEXTS = {
  /** Headline, `Published:` line with views, WATCH blocks, captions, two subheadings, a bare `Source link`. */
  preview: path.join(RAW, 'tram-vote-preview.txt'),
  /** One-word kicker, no date, a deck repeated in the story, five subheadings, videos with age and duration, `With files from`. */
  result: path.join(RAW, 'tram-vote-result.txt'),
} as const;

/** The repository's RELAX NG schema of the RFC 4287 rules its Atom feeds rely on. */
export const ATOM_SCHEMA = path.join(REPOSITORY, 'test/fixtures/atom/atom-rfc4287.rnc');

/** Reference material beside the checkout, for the conformance pass only. */
export const REFERENCE = {
  /** RFC 4287 Appendix B, unchanged. */
  atomSchema: path.join(SHARED, 'validators/atom.rnc'),
  /** The raw texts the importer was first written against: a preview with a date, a wrap-up without. */
  seeds: { preview: path.join(SHARED, 'seeds/000_6b3c912130be6f25.txt'), wrap: path.join(SHARED, 'seeds/004_922878f7dfab2107.txt') },
} as const;

/**
 * A conformance test: runs when every file it needs from `../shared` is present, else is skipped and
 * says so on the console, so the core suite never depends on where the checkout lives.
 */
export function conformance(name: string, files: readonly string[], test: () => unknown, timeout?: number): void {
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    console.info(`conformance pass skipped, ${missing.map((file) => path.relative(REPOSITORY, file)).join(' and ')} not present: ${name}`);
  }
  it.runIf(missing.length === 0)(`conformance (../shared present): ${name}`, async () => {
    await test();
  }, timeout);
}
