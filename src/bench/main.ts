#!/usr/bin/env node
/**
 * `npm run bench` (`node dist/bench/main.js [--json] [--quick] [--only start|send|build]`): measures the performance goals of
 * issue 8 on this machine and prints each figure, its goal and whether it was met, as a table (and
 * as JSON with --json). Each goal is a ratio taken in one run, so the machine's speed cancels out.
 * It generates its own subscribers and articles in a temporary folder, starts every server on
 * 127.0.0.1 only, removes everything when done, and exits 0 whatever the figures say: a benchmark
 * reports, it does not gate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatJson, formatTable, type Figure } from './bench-report.js';
import { buildFigures } from './build-figures.js';
import { cliStartFigure } from './cli-start-figure.js';
import { sendFigures, type SendSizes } from './send-figures.js';

/** The sizes of one run: the issue's for a full run, small ones for `--quick` (a smoke test, under a minute). */
interface BenchSizes {
  send: SendSizes;
  articles: number;
  feedRuns: number;
  helpRuns: number;
}

const FULL: BenchSizes = {
  // memoryHuge: two sends of a million (SQLite, PostgreSQL), some 10 to 15 minutes each with their seeding.
  send: { throughput: 20_000, baseline: 2_000, memorySmall: 10_000, memoryLarge: 100_000, memoryHuge: 1_000_000 },
  articles: 10_000,
  feedRuns: 5,
  helpRuns: 11,
};

const QUICK: BenchSizes = {
  send: { throughput: 600, baseline: 100, memorySmall: 300, memoryLarge: 1_500, memoryHuge: 3_000 },
  articles: 200,
  feedRuns: 3,
  helpRuns: 3,
};

/** The parts of a run, in order; `--only PART` runs one (the full run takes half an hour). */
const PARTS = ['start', 'send', 'build'] as const;
type Part = (typeof PARTS)[number];

function partsOf(argv: readonly string[]): readonly Part[] | undefined {
  const at = argv.indexOf('--only');
  if (at === -1) return PARTS;
  const part = PARTS.find((name) => name === argv[at + 1]);
  return part === undefined ? undefined : [part];
}

async function main(argv: readonly string[]): Promise<void> {
  const parts = partsOf(argv);
  const unknown = argv.filter((argument, index) => argument !== '--json' && argument !== '--quick' && !(argument === '--only' || argv[index - 1] === '--only'));
  if (parts === undefined || unknown.length > 0 || argv.includes('--help')) {
    process.stderr.write(`usage: node dist/bench/main.js [--json] [--quick] [--only ${PARTS.join('|')}]\n`);
    return;
  }
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const sizes = quick ? QUICK : FULL;
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const root = mkdtempSync(path.join(os.tmpdir(), 'briefing-bench-'));
  const removeRoot = (): void => rmSync(root, { recursive: true, force: true });
  const onSignal = (): void => {
    removeRoot();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const startedAt = new Date();
  const figures: Figure[] = [];
  try {
    log(`bench: ${quick ? 'quick' : 'full'} run in ${root}`);
    if (parts.includes('start')) {
      log('start-up');
      figures.push(await cliStartFigure(sizes.helpRuns, log));
    }
    if (parts.includes('send')) {
      log('send');
      figures.push(...(await sendFigures(root, sizes.send, log)));
    }
    if (parts.includes('build')) {
      log('build');
      figures.push(...(await buildFigures(path.join(root, 'site'), { articles: sizes.articles, feedRuns: sizes.feedRuns }, log)));
    }
  } finally {
    removeRoot();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const durationSeconds = Math.round((Date.now() - startedAt.getTime()) / 100) / 10;
  const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryMb: Math.round(os.totalmem() / 2 ** 20), loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100) };
  if (json) {
    process.stdout.write(`${formatJson({ quick, startedAt: startedAt.toISOString(), durationSeconds, machine, figures })}\n`);
  } else {
    const missed = figures.filter((item) => item.met === false).length;
    process.stdout.write(`${formatTable(figures)}\n\n${missed === 0 ? 'All goals met' : `${missed} goal${missed === 1 ? '' : 's'} missed`} (${quick ? 'quick' : 'full'} run, ${durationSeconds} s, node ${machine.node}, ${machine.cpus} cores, load ${machine.loadAverage.join(' ')})\n`);
  }
}

main(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    // A benchmark reports; it does not fail the build that runs it.
    process.stderr.write(`bench: stopped early: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 0;
  },
);
