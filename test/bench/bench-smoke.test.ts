/**
 * `npm run bench --quick` as a child process: it must run to the end with tiny sizes, print one JSON
 * document with every figure, exit 0, and leave nothing behind. No figure's value is judged here:
 * speed is the benchmark's business, not the test suite's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BENCH = path.join(REPOSITORY, 'dist', 'bench', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBench(args: readonly string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BRIEFING_')));
  const child = spawn(process.execPath, [BENCH, ...args], { cwd: REPOSITORY, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
  });
}

const FIGURES = [
  'cli.helpStart',
  'send.firstMessage',
  'send.firstMessageStored',
  'send.personalised',
  'send.vsSmtpSource',
  'send.vsNodemailer',
  'send.outboxHeadroom',
  'send.topicChoices',
  'send.peakRss',
  'send.peakRssGrowth',
  'send.peakRssTuned',
  'send.peakRssHuge',
  'send.peakRssPostgres',
  'build.full',
  'build.vsEleventyWall',
  'build.vsEleventyRss',
  'build.vsEleventyUser',
  'build.vsEleventySystem',
  'build.incremental',
  'build.incrementalCold',
  'build.unchangedIdentical',
  'build.matchesFullBuild',
  'build.memoryFlat',
  'build.feedsVsFeedPackage',
];

describe('npm run bench', () => {
  it('--quick --json runs every figure, prints one JSON document, exits 0 and removes its folder', async () => {
    const run = await runBench(['--quick', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      quick: boolean;
      figures: Array<{ id: string; name: string; value: number | null; goal: string; met: boolean | null; error?: string }>;
    };
    expect(report.quick).toBe(true);
    expect(report.figures.map((figure) => figure.id)).toEqual(FIGURES);
    for (const figure of report.figures) {
      // Each figure was measured (a missing tool would say so in `error`), and carries its goal.
      expect(figure.error, `${figure.id}: ${figure.error}`).toBeUndefined();
      expect(typeof figure.value).toBe('number');
      expect(figure.goal).not.toBe('');
    }
    // The correctness figures hold whatever the machine's speed.
    for (const id of ['send.personalised', 'build.unchangedIdentical', 'build.matchesFullBuild']) {
      expect(report.figures.find((figure) => figure.id === id)?.met, id).toBe(true);
    }
    const root = /^bench: quick run in (.+)$/m.exec(run.stderr)?.[1];
    expect(root).toBeDefined();
    expect(existsSync(root as string)).toBe(false);
    // About a minute on a quiet machine; three when the machine is shared (seen: 188 s at load 10).
  }, 300_000);
});
