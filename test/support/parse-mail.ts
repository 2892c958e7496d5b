/**
 * Reads messages with Python's standard `email` package (Debian's /usr/bin/python3), a MIME parser
 * that owes nothing to ours: headers decoded (RFC 2047), parts decoded (quoted-printable), defects
 * listed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ParsedMail {
  file: string;
  type: string;
  /** Lower-case header name → decoded values, in order. */
  headers: Record<string, string[]>;
  addresses: Record<string, Array<{ name: string; address: string }>>;
  defects: string[];
  parts: Array<{ type: string; charset: string | null; encoding: string | null; content: string }>;
  maxLineLength: number;
  bareLineFeeds: number;
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'parse-mail.py');

/** Parses .eml files in one Python run. */
export function parseMailFiles(files: readonly string[]): ParsedMail[] {
  if (files.length === 0) return [];
  const output = execFileSync('/usr/bin/python3', [script, ...files], { maxBuffer: 1 << 30 });
  return JSON.parse(output.toString('utf8')) as ParsedMail[];
}

/** Parses raw messages (written to a temp folder first). */
export function parseMail(raws: readonly Buffer[]): ParsedMail[] {
  const folder = mkdtempSync(path.join(tmpdir(), 'briefing-mail-'));
  try {
    const files = raws.map((raw, index) => {
      const file = path.join(folder, `${index}.eml`);
      writeFileSync(file, raw);
      return file;
    });
    return parseMailFiles(files);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The first decoded value of a header. */
export function header(mail: ParsedMail, name: string): string | undefined {
  return mail.headers[name.toLowerCase()]?.[0];
}
