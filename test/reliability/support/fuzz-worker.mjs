/**
 * Runs one fuzz target in a worker thread over the compiled program (dist/): input after input from
 * the mutator, each checked against the target's contract. It publishes the number of the input it
 * is on in shared memory, so the test can name an input that hangs and stop the worker.
 */
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { mutate, mutateBytes } from './mutate.mjs';

const { target, seed, runs, corpus, dist, progress } = workerData;
const current = new Int32Array(progress);
const load = (module) => import(`${dist}/${module}`);
const { BriefingError } = await load('errors.js');

/** Line count as an editor shows it (any line break ends a line). */
const lineCount = (text) => text.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/).length;

/** Problems must name the file and, where they name a line, one inside the file. */
function checkProblems(problems, file, lines, violations, label) {
  for (const problem of problems) {
    if (problem.file !== file) violations.push(`${label}: a problem names ${JSON.stringify(problem.file)}, not ${file}`);
    if (problem.line !== undefined && !(Number.isInteger(problem.line) && problem.line >= 1 && problem.line <= lines + 1)) {
      violations.push(`${label}: a problem names line ${problem.line} of a file of ${lines} lines`);
    }
    if (typeof problem.message !== 'string' || problem.message === '') violations.push(`${label}: a problem without a message`);
  }
}

/** A thrown error must be a BriefingError of the stage, naming the file. */
function checkError(error, stage, file, lines, violations, label) {
  if (!(error instanceof BriefingError)) {
    violations.push(`${label}: threw ${error?.constructor?.name}: ${String(error?.message ?? error).slice(0, 200)}`);
    return;
  }
  if (!error.message.startsWith(`${stage}: `)) violations.push(`${label}: error without the ${stage} prefix: ${error.message.slice(0, 120)}`);
  if (!error.message.includes(file)) violations.push(`${label}: error does not name ${file}: ${error.message.slice(0, 120)}`);
  checkProblems(error.problems, file, lines, violations, label);
}

const UNSAFE_HTML = /<script|<iframe|<object|<embed|\son[a-z]+\s*=|(?:href|src)\s*=\s*"\s*(?:javascript|data|vbscript):|[\u0000-\u0008\u000b\u000c\u000e-\u001f]/i;
/** Article HTML the screen flagged, for the test to check properly. */
const suspects = [];

const targets = {
  async record() {
    const { createArticleParser } = await load('content/parse-article.js');
    const parser = createArticleParser({ topics: workerData.topics, timeZone: 'Europe/Kyiv' });
    return (index, tally, violations) => {
      const text = mutate(corpus, seed, index);
      const label = `input ${index}`;
      let result;
      try {
        result = parser.parse(text, 'content/fuzz.md', 'fuzz');
      } catch (error) {
        violations.push(`${label}: parse threw ${error?.constructor?.name}: ${String(error?.message).slice(0, 200)}`);
        return;
      }
      if (result.problems) {
        tally.refused += 1;
        if (result.problems.length === 0) violations.push(`${label}: refused without a problem`);
        checkProblems(result.problems, 'content/fuzz.md', lineCount(text), violations, label);
      } else {
        tally.accepted += 1;
        // A cheap screen here; the test reads what it catches with a real HTML parser (escaped text may match too).
        if (UNSAFE_HTML.test(result.article.html) && suspects.length < 200) suspects.push({ index, html: result.article.html });
      }
    };
  },

  async importer() {
    const { importRawArticle } = await load('content/import-raw.js');
    const { formatRecord } = await load('content/format-record.js');
    const { createArticleParser } = await load('content/parse-article.js');
    const parser = createArticleParser({ topics: workerData.topics, timeZone: 'Europe/Kyiv' });
    return (index, tally, violations) => {
      const text = mutate(corpus, seed, index);
      const label = `input ${index}`;
      let record;
      try {
        record = importRawArticle(text, { file: 'raw/fuzz.txt', timeZone: 'Europe/Kyiv', published: index % 3 === 0 ? undefined : '2025-07-23T20:30:00' });
      } catch (error) {
        tally.refused += 1;
        checkError(error, 'import', 'raw/fuzz.txt', lineCount(text), violations, label);
        return;
      }
      tally.accepted += 1;
      const result = parser.parse(formatRecord(record), `content/${record.id}.md`, record.id);
      if (result.problems) violations.push(`${label}: the imported record does not load: ${JSON.stringify(result.problems).slice(0, 300)}`);
    };
  },

  async csv() {
    const { readSubscriberCsv } = await load('subscribers/import-csv.js');
    const { parseAddress, normaliseName } = await load('address.js');
    return async (index, tally, violations) => {
      const bytes = mutateBytes(corpus, seed, index);
      const label = `input ${index}`;
      const lines = lineCount(bytes.toString('utf8'));
      const { batches, report } = readSubscriberCsv(Readable.from([bytes]), { file: 'lists/fuzz.csv', status: 'active', source: 'fuzz', topicIds: ['talks', 'war'], batchSize: 50 });
      try {
        for await (const batch of batches) {
          for (const subscriber of batch) {
            const again = parseAddress(subscriber.address);
            if (!again.ok || again.address !== subscriber.address) violations.push(`${label}: imported an address that does not parse back: ${JSON.stringify(subscriber.address)}`);
            const name = normaliseName(subscriber.name);
            if (!name.ok || name.name !== subscriber.name) violations.push(`${label}: imported a name that is not normal: ${JSON.stringify(subscriber.name)}`);
            tally.accepted += 1;
          }
        }
      } catch (error) {
        tally.refused += 1;
        checkError(error, 'subscribers', 'lists/fuzz.csv', lines, violations, label);
      }
      tally.problems += report.problems.length;
      checkProblems(report.problems, 'lists/fuzz.csv', lines, violations, label);
      if (report.errors > report.lines) violations.push(`${label}: more bad lines (${report.errors}) than lines (${report.lines})`);
    };
  },

  async token() {
    const { verifyToken } = await load('delivery/tokens.js');
    const minted = new Map(workerData.tokens.map((token) => [token.token, token]));
    const now = new Date(workerData.now);
    return (index, tally, violations) => {
      const text = mutate(corpus, seed, index);
      const label = `input ${index}`;
      for (const purpose of ['unsubscribe', 'confirm']) {
        let result;
        try {
          result = verifyToken([workerData.secret], purpose, text, workerData.linkKey, now);
        } catch (error) {
          violations.push(`${label}: verifyToken threw ${error?.constructor?.name}`);
          return;
        }
        if (!result || typeof result.ok !== 'boolean') violations.push(`${label}: not a TokenCheck`);
        else if (result.ok) {
          const known = minted.get(text);
          if (!known || known.purpose !== purpose || known.subscriberId !== result.subscriberId) violations.push(`${label}: accepted a token it did not sign: ${JSON.stringify(text)}`);
          tally.accepted += 1;
        } else {
          if (!['malformed', 'bad-signature', 'expired'].includes(result.reason)) violations.push(`${label}: unknown reason ${result.reason}`);
          tally.refused += 1;
        }
      }
    };
  },
};

const check = await targets[target]();
const tally = { accepted: 0, refused: 0, problems: 0 };
const violations = [];
for (let index = 0; index < runs && violations.length < 20; index += 1) {
  Atomics.store(current, 0, index);
  await check(index, tally, violations);
}
Atomics.store(current, 0, runs);
parentPort.postMessage({ tally, violations, suspects });
