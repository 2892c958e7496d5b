import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createArticleParser } from '../../content/parse-article.js';
import { formatRecord } from '../../content/format-record.js';
import { importRawArticle } from '../../content/import-raw.js';
import { BriefingError, formatProblem, isBriefingError, type Problem } from '../../errors.js';
import { checkUtf8, notUtf8Message } from '../../utf8-text.js';
import type { CliContext } from '../context.js';

interface ImportCommandOptions {
  published?: string;
  out?: string;
  source?: string;
  json?: boolean;
}

type WriteStatus = 'written' | 'unchanged' | 'exists';

/**
 * `briefing import FILE… --source NAME`: turns raw article texts into records in the content folder
 * (or --out); the source is required, as the record's attribution. Never overwrites a different record; every file is tried, and any failure makes the exit non-zero.
 */
export default async function importCommand(context: CliContext, options: ImportCommandOptions, files: string[]): Promise<number> {
  const config = context.config();
  const outDir = options.out === undefined ? config.paths.content : path.resolve(options.out);
  const parser = createArticleParser({ topics: config.topics, timeZone: config.timeZone });
  await mkdir(outDir, { recursive: true });
  // Raw copy names no source of its own: a record must not go out attributed to "unknown". Checked
  // before any file is read; every file is named.
  if (options.source === undefined) {
    throw BriefingError.fromProblems(
      'import',
      'no-source',
      files.map((file) => ({ file, field: 'source', message: 'the text names no source: give the attribution with --source NAME (e.g. --source "CBC News")' })),
    );
  }
  const problems: Problem[] = [];
  const limit = config.content.maxRecordBytes;

  for (const input of files) {
    try {
      const text = await readInput(input, limit);
      const record = importRawArticle(text, { file: input, published: options.published, timeZone: config.timeZone, source: options.source });
      const output = formatRecord(record);
      const size = Buffer.byteLength(output, 'utf8');
      // A record the build would refuse is not written: the limit is the build's own.
      if (size > limit) throw BriefingError.fromProblems('import', 'record-too-large', [{ file: input, message: tooLarge(`the record would be ${size} bytes`, limit) }]);
      const target = path.join(outDir, `${record.id}.md`);
      const shown = path.relative(process.cwd(), target) || target;
      const check = parser.parse(output, shown, record.id);
      if (check.problems) {
        throw new Error(`the record imported from ${input} does not load:\n${check.problems.map(formatProblem).join('\n')}`);
      }
      const status = await writeOnce(target, output).catch((error: NodeJS.ErrnoException) => {
        throw BriefingError.fromProblems('import', 'record-unwritable', [{ file: shown, message: `cannot write: ${error.code ?? String(error)}` }]);
      });
      if (status === 'exists') {
        problems.push({ file: shown, message: `a different record with this id exists: not overwritten (imported from ${input})` });
      }
      for (const note of record.notes) {
        context.logger.warn({ file: shown }, `${shown}: ${note}`);
      }
      context.print(options.json ? JSON.stringify({ input, file: shown, id: record.id, status, notes: record.notes }) : `${status} ${shown}`);
    } catch (error) {
      if (!isBriefingError(error)) {
        throw error;
      }
      problems.push(...(error.problems.length > 0 ? error.problems : [{ file: input, message: error.message }]));
    }
  }

  if (problems.length > 0) {
    throw BriefingError.fromProblems('import', 'import-failed', problems, `${problems.length} of ${files.length} file${files.length === 1 ? '' : 's'} not imported`);
  }
  return 0;
}

const tooLarge = (what: string, limit: number): string => `${what}, over the limit of ${limit} (content.maxRecordBytes); split the text or raise the limit`;

/**
 * The raw text of `file`, read no further than `limit` bytes (a record is never smaller than its
 * text), so a huge file or an endless pipe is refused instead of filling memory.
 */
async function readInput(file: string, limit: number): Promise<string> {
  const unreadable = (error: unknown): BriefingError =>
    BriefingError.fromProblems('import', 'input-unreadable', [{ file, message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw unreadable(error);
  });
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read({ buffer: Buffer.allocUnsafe(64 * 1024) }).catch((error: unknown) => {
        throw unreadable(error);
      });
      if (bytesRead === 0) {
        const bytes = Buffer.concat(chunks, total);
        const bad = checkUtf8(bytes);
        if (bad !== undefined) throw BriefingError.fromProblems('import', 'input-not-utf8', [{ file, line: bad.line, message: notUtf8Message(bad) }]);
        return bytes.toString('utf8');
      }
      total += bytesRead;
      if (total > limit) throw BriefingError.fromProblems('import', 'input-too-large', [{ file, message: tooLarge(`the text is more than ${limit} bytes`, limit) }]);
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/**
 * Writes a new file atomically (temp file + hard link, which fails when the target exists), so a
 * crash leaves no half record and an existing record is never replaced.
 */
async function writeOnce(target: string, text: string): Promise<WriteStatus> {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, text, { flag: 'wx' });
  try {
    await link(temporary, target);
    return 'written';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw error;
    }
    return (await readFile(target, 'utf8')) === text ? 'unchanged' : 'exists';
  } finally {
    await unlink(temporary);
  }
}
