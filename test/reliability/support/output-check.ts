/**
 * Reads an output/ folder as a client would: every feed must parse (libxml2 for XML, JSON.parse for
 * JSON Feed), every page must be whole, and a snapshot gives each file's digest for comparisons.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Files under a folder, relative, sorted; temporary files (`.name.tmp`) included unless filtered. */
export function listFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Each file's SHA-256, by relative path. */
export function outputSnapshot(folder: string, keep: (file: string) => boolean = () => true): Record<string, string> {
  return Object.fromEntries(
    listFiles(folder)
      .filter(keep)
      .map((file) => [file, createHash('sha256').update(readFileSync(path.join(folder, file))).digest('hex')]),
  );
}

/** True for a writer's temporary file (`.feed.xml.<tag>.tmp`): never served, never a finished file. */
export function isTemporary(file: string): boolean {
  return path.basename(file).startsWith('.') && file.endsWith('.tmp');
}

/** What is wrong with the finished files of an output folder: unparseable feeds, cut-off pages. */
export function problemsOfOutput(folder: string): string[] {
  const files = listFiles(folder).filter((file) => !isTemporary(file) && !file.startsWith('outbox/'));
  const problems: string[] = [];
  const xml = files.filter((file) => file.endsWith('.xml'));
  if (xml.length > 0) {
    const lint = spawnSync('xmllint', ['--noout', ...xml], { cwd: folder, encoding: 'utf8' });
    if (lint.status !== 0) problems.push(`xmllint: ${lint.stderr.split('\n').slice(0, 4).join(' / ')}`);
  }
  for (const file of files) {
    const text = readFileSync(path.join(folder, file), 'utf8');
    if (file.endsWith('.json')) {
      try {
        JSON.parse(text);
      } catch (error) {
        problems.push(`${file}: ${(error as Error).message}`);
      }
    } else if (file.endsWith('.html') && !/<\/html>\s*$/i.test(text)) {
      problems.push(`${file}: does not end with </html>`);
    }
  }
  return problems;
}
