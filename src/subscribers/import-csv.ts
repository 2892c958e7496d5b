import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { parse, type Options as CsvOptions } from 'csv-parse';
import { BriefingError, type Problem } from '../errors.js';
import { checkUtf8, notUtf8Message, utf8Boundary, type NotUtf8 } from '../utf8-text.js';
import { SUBSCRIBER_STATUSES, type AddCounts, type NewSubscriber, type SubscriberStatus, type SubscriberStore, type TopicChoice } from '../store/store.js';
import { normaliseTopicChoice, unknownTopicIds } from '../store/topic-choice.js';
import { normaliseName, parseAddress } from '../address.js';
import { readCsvCell } from './csv-cell.js';

/** Header names (case-insensitive) and the field each fills; `export` writes the same columns. */
const COLUMNS: Readonly<Record<string, CsvField>> = {
  address: 'address',
  email: 'address',
  'e-mail': 'address',
  name: 'name',
  status: 'status',
  source: 'source',
  created: 'created',
  confirmed: 'confirmed',
  unsubscribed: 'unsubscribed',
  topics: 'topics',
};
type CsvField = 'address' | 'name' | 'status' | 'source' | 'created' | 'confirmed' | 'unsubscribed' | 'topics';

/** Problems kept for the report; beyond this only the count grows, so memory stays flat. */
const MAX_REPORTED_PROBLEMS = 1000;

/** How to read a subscriber CSV. */
export interface CsvReadOptions {
  /** Name used in messages (`FILE:LINE: address: …`). */
  file: string;
  /** Status of rows without a status column (or with an empty cell). */
  status: SubscriberStatus;
  /** Source of rows without a source column, e.g. `import:list.csv`. */
  source: string;
  /** The configured topic ids: a `topics` cell may name only these. */
  topicIds: readonly string[];
  /** Rows per store batch (one multi-row INSERT each). */
  batchSize: number;
  /** Called after each batch, for progress lines. */
  onProgress?: (report: Readonly<CsvReadReport>) => void;
}

/** What reading a CSV found, filled in while the batches are consumed. */
export interface CsvReadReport {
  /** Data lines read (records after the header, good or bad). */
  lines: number;
  /** Lines with at least one problem; they are skipped. */
  errors: number;
  /** The first problems, each naming file, line and field. */
  problems: Problem[];
}

function problemAdder(report: CsvReadReport) {
  return (problem: Problem): void => {
    if (report.problems.length < MAX_REPORTED_PROBLEMS) report.problems.push(problem);
  };
}

function headerMap(header: readonly string[], file: string): Map<CsvField, number> {
  const fields = new Map<CsvField, number>();
  header.forEach((cell, index) => {
    const field = COLUMNS[cell.trim().toLowerCase()];
    if (field === undefined) return;
    if (fields.has(field)) {
      throw BriefingError.fromProblems('subscribers', 'invalid-csv', [{ file, line: 1, field: 'header', message: `two columns give the ${field}` }]);
    }
    fields.set(field, index);
  });
  if (!fields.has('address')) {
    // Text saved as UTF-16 without a byte-order mark reads as letters with NUL bytes between them.
    const message = header.some((cell) => cell.includes('\u0000'))
      ? 'the file looks like UTF-16 without a byte-order mark (NUL bytes between the letters): save it as UTF-8'
      : `no "address" or "email" column (found ${JSON.stringify(header)})`;
    throw BriefingError.fromProblems('subscribers', 'invalid-csv', [{ file, line: 1, field: 'header', message }]);
  }
  return fields;
}

/** A `topics` cell: ids separated by spaces (or commas), empty for every topic; a string says what is wrong. */
function parseTopics(text: string, known: readonly string[]): TopicChoice | string {
  const ids = text.split(/[\s,]+/).filter((id) => id !== '');
  if (ids.length === 0) return null;
  const unknown = unknownTopicIds(ids, known);
  if (unknown.length > 0) {
    const named = unknown.slice(0, 3).map((id) => JSON.stringify(id.slice(0, 64))).join(', ');
    return `unknown topic${unknown.length === 1 ? '' : 's'} ${named}${unknown.length > 3 ? ', …' : ''} (known: ${known.join(', ')})`;
  }
  try {
    return normaliseTopicChoice(ids);
  } catch (error) {
    return (error as Error).message.replace(/^store: /, '');
  }
}

function parseTime(text: string): Date | null | string {
  if (text === '') return null;
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : undefined;
  return time && !Number.isNaN(time.getTime()) ? time : `${JSON.stringify(text)} is not an ISO 8601 time with a zone`;
}

/** Turns one record into a subscriber, or the problems that keep it out. */
function toSubscriber(cells: readonly string[], fields: Map<CsvField, number>, options: CsvReadOptions, line: number): NewSubscriber | Problem[] {
  const cell = (field: CsvField): string | undefined => {
    const index = fields.get(field);
    const value = index === undefined ? undefined : cells[index];
    return value === undefined ? undefined : readCsvCell(value);
  };
  const problems: Problem[] = [];
  const problem = (field: CsvField, message: string): void => {
    problems.push({ file: options.file, line, field, message });
  };
  const address = parseAddress(cell('address') ?? '');
  if (!address.ok) problem('address', address.problem);
  const name = normaliseName(cell('name'));
  if (!name.ok) problem('name', name.problem);
  const source = normaliseName(cell('source'));
  if (!source.ok) problem('source', source.problem);
  const statusText = cell('status')?.trim().toLowerCase() ?? '';
  const status = statusText === '' ? options.status : SUBSCRIBER_STATUSES.find((s) => s === statusText);
  if (status === undefined) problem('status', `${JSON.stringify(statusText)} is not one of ${SUBSCRIBER_STATUSES.join(', ')}`);
  const times: Partial<Record<'createdAt' | 'confirmedAt' | 'unsubscribedAt', Date | null>> = {};
  for (const [field, key] of [['created', 'createdAt'], ['confirmed', 'confirmedAt'], ['unsubscribed', 'unsubscribedAt']] as const) {
    const text = cell(field)?.trim();
    if (text === undefined) continue;
    const time = parseTime(text);
    if (typeof time === 'string') problem(field, time);
    else if (time !== null || field !== 'created') times[key] = time;
  }
  const topicsText = cell('topics');
  const topics = topicsText === undefined ? undefined : parseTopics(topicsText, options.topicIds);
  if (typeof topics === 'string') problem('topics', topics);
  if (problems.length > 0 || !address.ok || !name.ok || !source.ok || status === undefined || typeof topics === 'string') return problems;
  return {
    address: address.address,
    name: name.name,
    status,
    source: source.name ?? options.source,
    ...(times.createdAt ? { createdAt: times.createdAt } : {}),
    ...('confirmedAt' in times ? { confirmedAt: times.confirmedAt } : {}),
    ...('unsubscribedAt' in times ? { unsubscribedAt: times.unsubscribedAt } : {}),
    ...(topics === undefined ? {} : { topics }),
  };
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Turns CRLF and a lone CR into LF, so csv-parse counts lines as an editor does whatever the file
 * mixes (it counts a CRLF it does not take as the record delimiter as two lines). No cell that can be
 * imported holds a CR or LF, so only the line numbers change. Works on bytes: UTF-8 never has 0x0d or
 * 0x0a inside a character.
 */
function lineFeedsOnly(): Transform {
  let pendingCr = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!pendingCr && !chunk.includes(CR)) return callback(null, chunk);
      const out = Buffer.allocUnsafe(chunk.length + 1);
      let length = 0;
      let from = 0;
      if (pendingCr) {
        out[length++] = LF;
        if (chunk[0] === LF) from = 1;
      }
      // Copy the runs between CRs; each CR becomes the LF, swallowing an LF right after it.
      for (let at = chunk.indexOf(CR, from); at !== -1; at = chunk.indexOf(CR, from)) {
        length += chunk.copy(out, length, from, at);
        if (at + 1 === chunk.length) {
          from = at + 1;
          pendingCr = true;
          return callback(null, out.subarray(0, length));
        }
        out[length++] = LF;
        from = chunk[at + 1] === LF ? at + 2 : at + 1;
      }
      length += chunk.copy(out, length, from);
      pendingCr = false;
      callback(null, out.subarray(0, length));
    },
    flush(callback) {
      callback(null, pendingCr ? Buffer.from([LF]) : null);
    },
  });
}

/**
 * Passes the bytes on as they are, noting each line (counted as csv-parse counts them, after
 * lineFeedsOnly) that holds bytes that are not UTF-8: csv-parse would read them as U+FFFD, and a
 * name or address would be imported changed without a word.
 */
function notUtf8Lines(lines: Map<number, NotUtf8>): Transform {
  let line = 1;
  let held = Buffer.alloc(0);
  const lineFeeds = (bytes: Buffer): number => {
    let count = 0;
    for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) count += 1;
    return count;
  };
  const scan = (bytes: Buffer): void => {
    for (let from = 0; ; ) {
      const rest = bytes.subarray(from);
      const bad = checkUtf8(rest);
      if (bad === undefined) {
        line += lineFeeds(rest);
        return;
      }
      const at = line + bad.line - 1;
      if (!lines.has(at)) lines.set(at, bad);
      // The rest of that line is refused with it: scanning goes on from the next.
      const end = rest.indexOf(LF, bad.offset);
      line = end === -1 ? at : at + 1;
      if (end === -1) return;
      from += end + 1;
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const bytes = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      const boundary = utf8Boundary(bytes);
      scan(bytes.subarray(0, boundary));
      held = Buffer.from(bytes.subarray(boundary));
      callback(null, chunk);
    },
    flush(callback) {
      scan(held);
      callback();
    },
  });
}

/**
 * Streams a subscriber CSV (header row; `address`/`email`, optional `name`, `status`, `source`,
 * `created`, `confirmed`, `unsubscribed`, `topics` columns) as batches of valid rows. Bad lines are skipped and
 * recorded in `report`, each with its line number; a missing address column is fatal.
 */
export function readSubscriberCsv(input: Readable, options: CsvReadOptions): { batches: AsyncIterable<NewSubscriber[]>; report: CsvReadReport } {
  const report: CsvReadReport = { lines: 0, errors: 0, problems: [] };
  const addProblem = problemAdder(report);
  async function* batches(): AsyncGenerator<NewSubscriber[]> {
    let fields: Map<CsvField, number> | undefined;
    const notUtf8 = new Map<number, NotUtf8>();
    /** Cells of the header row: a row may have fewer (or more, empty), not values past them. */
    let columns = 0;
    /**
     * Where the last record read ended, and csv-parse's count of empty lines then: where the next one
     * starts. Unknown after a skipped record, whose end csv-parse does not tell.
     */
    let endedAt: { line: number; emptyLines: number } | undefined = { line: 0, emptyLines: 0 };
    /**
     * The first line from `first` to `last` that is not UTF-8. Lines up to `last` are done with: they
     * are forgotten, so a file with a bad byte on every line keeps no more than the parser reads ahead.
     */
    const badLineOf = (first: number, last: number): [number, NotUtf8] | undefined => {
      let found: [number, NotUtf8] | undefined;
      for (const [at, bad] of notUtf8) {
        if (at > last) break;
        if (at >= first) found ??= [at, bad];
        notUtf8.delete(at);
      }
      return found;
    };
    // Validation runs in the parser's hooks, so records and skipped lines are reported in file order.
    const csvOptions: CsvOptions<NewSubscriber, string[]> = {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error) => {
        report.lines += 1;
        report.errors += 1;
        const line = typeof error?.lines === 'number' ? error.lines : undefined;
        if (error?.code === 'CSV_QUOTE_NOT_CLOSED' && endedAt !== undefined && line !== undefined && typeof error.empty_lines === 'number') {
          // csv-parse reports the file's end; the quote opened in the record after the last one read.
          const opened = endedAt.line + 1 + (error.empty_lines - endedAt.emptyLines);
          addProblem({ file: options.file, line: Math.min(opened, line), field: 'csv', message: 'a quote opened in the row that starts here is never closed' });
          return undefined;
        }
        endedAt = undefined;
        addProblem({ file: options.file, line, field: 'csv', message: error?.message.replace(/ on line \d+$/, '') ?? 'unreadable line' });
        return undefined;
      },
      on_record: (record: string[], context): NewSubscriber | null => {
        endedAt = { line: context.lines, emptyLines: context.empty_lines };
        if (fields === undefined) {
          fields = headerMap(record, options.file);
          columns = record.length;
          return null;
        }
        report.lines += 1;
        // csv-parse counts where a record ends; the record starts as many line breaks earlier as its cells hold.
        const breaks = record.reduce((sum, value) => sum + (value.match(/\n/g)?.length ?? 0), 0);
        const line = context.lines - breaks;
        // A value past the header's last column: most likely an unquoted comma that shifted the row ("Doe, Jane").
        if (record.slice(columns).some((value) => value.trim() !== '')) {
          report.errors += 1;
          addProblem({ file: options.file, line, field: 'csv', message: `has ${record.length} cells where the header has ${columns}: a value with a comma needs quotes` });
          return null;
        }
        const bad = badLineOf(line, context.lines);
        if (bad !== undefined) {
          report.errors += 1;
          addProblem({ file: options.file, line: bad[0], field: 'csv', message: notUtf8Message(bad[1]) });
          return null;
        }
        const result = toSubscriber(record, fields, options, line);
        if (!Array.isArray(result)) return result;
        report.errors += 1;
        result.forEach(addProblem);
        return null;
      },
    };
    // csv-parse's overloads only type `on_record` for `columns` mode; the hook's output type is ours.
    const parser = input.pipe(lineFeedsOnly()).pipe(notUtf8Lines(notUtf8)).pipe(parse(csvOptions as unknown as CsvOptions));
    input.on('error', (error) => parser.destroy(error));
    let batch: NewSubscriber[] = [];
    try {
      for await (const subscriber of parser as AsyncIterable<NewSubscriber>) {
        batch.push(subscriber);
        if (batch.length >= options.batchSize) {
          yield batch;
          batch = [];
          options.onProgress?.(report);
        }
      }
    } catch (error) {
      if (error instanceof BriefingError) throw error;
      throw new BriefingError('subscribers', 'csv-unreadable', `cannot read ${options.file}: ${(error as Error).message}`, { cause: error });
    } finally {
      // Also when the consumer stops early (a failed import): the file is closed.
      input.destroy();
    }
    if (fields === undefined) {
      throw BriefingError.fromProblems('subscribers', 'invalid-csv', [{ file: options.file, line: 1, field: 'header', message: 'the file is empty (a header row is needed)' }]);
    }
    if (batch.length > 0) yield batch;
  }
  return { batches: batches(), report };
}

/** The result of `briefing subscribers import`. */
export interface CsvImportResult extends AddCounts, CsvReadReport {
  /** False when a line had an error: then nothing was written. */
  written: boolean;
  seconds: number;
  rowsPerSecond: number;
}

/** Rows a CSV import writes per transaction: a long import never holds the store's write lock for long. */
const IMPORT_CHUNK_ROWS = 2000;

async function openCsv(file: string): Promise<Readable> {
  const input = createReadStream(file);
  try {
    await new Promise<void>((resolve, reject) => {
      input.once('open', () => resolve());
      input.once('error', reject);
    });
  } catch (error) {
    throw new BriefingError('subscribers', 'csv-unreadable', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  return input;
}

/**
 * Imports a CSV file (named in messages as given) in two streaming passes: the first checks every
 * line and, if any is bad, writes nothing and reports them all (file, line, field); the second writes
 * the rows in chunks of `IMPORT_CHUNK_ROWS`, one transaction each, so `serve` and senders beside a
 * long import wait at most one chunk. A run stopped part way leaves whole chunks written; importing
 * the file again finishes it (rows merge by address). Never re-activates an unsubscribed or bounced address.
 */
export async function importSubscriberCsv(
  store: Pick<SubscriberStore, 'importSubscribers'>,
  file: string,
  options: Pick<CsvReadOptions, 'status' | 'topicIds' | 'onProgress'> & { now: Date; batchSize?: number; elapsedSeconds: () => number },
): Promise<CsvImportResult> {
  const started = options.elapsedSeconds();
  const read = async (): Promise<{ batches: AsyncIterable<NewSubscriber[]>; report: CsvReadReport }> =>
    readSubscriberCsv(await openCsv(file), {
      file,
      status: options.status,
      topicIds: options.topicIds,
      source: `import:${path.basename(file)}`,
      batchSize: options.batchSize ?? IMPORT_CHUNK_ROWS,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  const checked = await read();
  for await (const _batch of checked.batches) {
    // Only the report is wanted from this pass; rows are read again when written.
  }
  const counts: AddCounts = { created: 0, updated: 0, unchanged: 0, 'kept-unsubscribed': 0 };
  const result = (report: CsvReadReport, written: boolean): CsvImportResult => {
    const seconds = options.elapsedSeconds() - started;
    return { ...counts, ...report, written, seconds, rowsPerSecond: seconds > 0 ? Math.round(report.lines / seconds) : report.lines };
  };
  if (checked.report.errors > 0) return result(checked.report, false);
  const writing = await read();
  Object.assign(counts, await store.importSubscribers(writing.batches, options.now));
  // Errors now mean the file changed between the passes: the good rows were written, the bad ones are reported.
  return result(writing.report, true);
}
