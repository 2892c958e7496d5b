import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BriefingError } from '../../errors.js';
import type { CliContext } from '../context.js';

/** The templates shipped with Briefing (the package's templates/, beside dist/). */
const SHIPPED_TEMPLATES = fileURLToPath(new URL('../../../templates', import.meta.url));

/**
 * A starting configuration. JSON has no comments, so each object may carry a `$comment` (the
 * loader ignores them, as JSON Schema does): the explanation sits beside the fields it explains.
 */
const STARTING_CONFIG = {
  $comment: 'Briefing configuration: the publication\'s facts. Secrets (SMTP URL, database URL, token key) come from BRIEFING_* environment variables, never from this file. Folders are relative to this file.',
  title: 'My Briefing',
  description: 'A daily briefing of the news we follow.',
  siteUrl: 'https://briefing.example.org/',
  language: 'en',
  timeZone: 'Europe/London',
  author: { name: 'Briefing desk', email: 'desk@briefing.example.org' },
  sender: {
    $comment: 'The From of every briefing; unsubscribeAddress receives mailto: unsubscribe requests.',
    name: 'My Briefing',
    address: 'briefing@briefing.example.org',
    unsubscribeAddress: 'unsubscribe@briefing.example.org',
  },
  postalAddress: 'My Briefing, 1 Example Street, London, United Kingdom',
  listId: 'daily.briefing.example.org',
  schedule: {
    $comment: 'cron with seconds first, in timeZone: every day at 21:00. A slot missed by less than catchUpMinutes is run late on start.',
    cron: '0 0 21 * * *',
    catchUpMinutes: 360,
  },
  edition: {
    $comment:
      'An edition with nothing new is recorded as skipped unless sendWhenEmpty. Subscribers may pick topics: each gets the sections of theirs; news matching no topic goes to everyone, or only to readers of every topic with generalSectionReaders "every-topic".',
    sendWhenEmpty: false,
    generalSectionReaders: 'everyone',
    subject: '{{title}}, {{date}}: {{topics}}',
  },
  topics: [
    {
      $comment: 'Sections of the briefing: a part of an article goes to the topic whose words it matches.',
      id: 'news',
      title: 'News',
      match: ['news', 'announced', 'said'],
    },
  ],
  paths: { content: 'content', templates: 'templates', output: 'output', data: 'data' },
};

/** One article record to start from; `briefing import` makes more from raw text. */
const EXAMPLE_ARTICLE = `---
title: Briefing starts publishing
published: 2025-01-06T09:00:00Z
source: Briefing desk
topics: [news]
---
This is an example article. Each article is a Markdown file in content/ with the YAML front matter
above: \`title\`, \`published\` and \`source\` are required.

## How to go on

Write your own records here (or \`npx briefing import FILE\`), delete this one, then run
\`npx briefing build\` and \`npx briefing send\`.
`;

/** Every file a folder holds, relative to it. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

/**
 * `briefing init [DIR]`: starts a publication in DIR: `briefing.config.json` (explained by its
 * `$comment` fields), a copy of the templates and one example article. Refuses, writing nothing,
 * when any of those files exists already.
 */
/**
 * The folders the targets need, from the nearest one that exists: the first of them that is a file
 * instead (which no write could get past), and those missing (which the writes will make).
 */
function foldersOnTheWay(targets: readonly string[]): { inTheWay: string | undefined; missing: string[] } {
  const missing = new Set<string>();
  for (const target of targets) {
    for (let folder = path.dirname(target); folder !== path.dirname(folder); folder = path.dirname(folder)) {
      let stat;
      try {
        stat = statSync(folder, { throwIfNoEntry: false });
      } catch {
        // ENOTDIR: a file further up; the walk finds it.
        stat = undefined;
      }
      if (stat?.isDirectory() === true) break;
      if (stat !== undefined) return { inTheWay: folder, missing: [] };
      missing.add(folder);
    }
  }
  return { inTheWay: undefined, missing: [...missing] };
}

export default async function init(context: CliContext, _options: unknown, args: string[]): Promise<number> {
  const dir = path.resolve(args[0] ?? '.');
  const shown = (file: string): string => path.relative(process.cwd(), file) || '.';
  const templates = filesUnder(SHIPPED_TEMPLATES);
  const targets = [
    path.join(dir, 'briefing.config.json'),
    path.join(dir, 'content', 'example.md'),
    ...templates.map((file) => path.join(dir, 'templates', file)),
  ];
  const existing = targets.filter((file) => existsSync(file));
  if (existing.length > 0) {
    throw new BriefingError(
      'cli',
      'init-exists',
      `${shown(existing[0] ?? dir)} exists already${existing.length > 1 ? ` (and ${existing.length - 1} more)` : ''}: init writes nothing over existing files; choose an empty folder (\`briefing init DIR\`)`,
    );
  }
  const unwritable = (why: string, cause?: unknown): BriefingError =>
    new BriefingError('cli', 'init-unwritable', `cannot write the new publication into ${shown(dir)}: ${why}; choose an empty folder (\`briefing init DIR\`)`, { cause });
  const { inTheWay, missing } = foldersOnTheWay(targets);
  if (inTheWay !== undefined) throw unwritable(`${shown(inTheWay)} is a file where a folder is needed`);
  try {
    mkdirSync(path.join(dir, 'content'), { recursive: true });
    writeFileSync(path.join(dir, 'briefing.config.json'), `${JSON.stringify(STARTING_CONFIG, null, 2)}\n`, { flag: 'wx' });
    writeFileSync(path.join(dir, 'content', 'example.md'), EXAMPLE_ARTICLE, { flag: 'wx' });
    cpSync(SHIPPED_TEMPLATES, path.join(dir, 'templates'), { recursive: true, errorOnExist: true, force: false });
  } catch (error) {
    // Nothing half-made is left: the files this run wrote go, and the folders it made if they are empty.
    for (const file of targets) rmSync(file, { force: true });
    for (const folder of missing.sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(folder);
      } catch {
        // Not empty (something else was put there meanwhile) or already gone: left as it is.
      }
    }
    throw unwritable((error as NodeJS.ErrnoException).code ?? String(error), error);
  }
  const config = shown(path.join(dir, 'briefing.config.json'));
  const flag = config === 'briefing.config.json' ? '' : ` --config ${config}`;
  for (const line of [
    `Wrote ${config}, ${shown(path.join(dir, 'content', 'example.md'))} and ${templates.length} templates under ${shown(path.join(dir, 'templates'))}/`,
    `Next: edit ${config} (title, siteUrl, timeZone, sender, topics; each "$comment" explains its part),`,
    `add a subscriber with \`npx briefing subscribers add you@example.org${flag}\`, then \`npx briefing build${flag}\` and \`npx briefing send --date 2025-01-06${flag}\`.`,
  ]) {
    context.print(line);
  }
  return 0;
}
