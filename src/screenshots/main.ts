#!/usr/bin/env node
/**
 * `npm run screenshots` (`node dist/screenshots/main.js [--out DIR] [--chromium PATH]`): builds the
 * site of the shipped content and config in a temporary folder, renders the seed edition's briefing
 * (the email as a subscriber gets it, and its public web version), publishes it in the editions'
 * index, and photographs them with Chromium so anyone can look at what readers see: the email at
 * 600 and 390 px, light and dark; the home, editions index, article and archive pages at 1280 and
 * 390 px, light and dark. PNGs go to output/screenshots/ (or --out). Not part of `npm test`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildSite } from '../run/build-site.js';
import { parseConfig, readEnvironment } from '../config.js';
import { resolveEditionSlot } from '../edition/edition-slot.js';
import { planEdition } from '../edition/plan-edition.js';
import { loadBriefingTemplates } from '../email/briefing-templates.js';
import { personaliseBriefing } from '../email/personalise.js';
import { renderBriefing } from '../email/render-briefing.js';
import { EDITIONS_INDEX_PATH, INDEX_PATH, archivePagePath, articlePagePath } from '../output/site-paths.js';
import { loadContent } from '../run/load-content.js';
import { publishEdition } from '../run/publish-edition.js';

const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The day of the seed stories: its edition tells both. */
const SEED_EDITION = '2025-07-23';
const SCHEMES = ['light', 'dark'] as const;

function option(argv: readonly string[], name: string, fallback: string): string {
  const index = argv.indexOf(name);
  const value = index < 0 ? undefined : argv[index + 1];
  return value ?? fallback;
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help')) {
    process.stdout.write('usage: node dist/screenshots/main.js [--out DIR] [--chromium PATH]\n');
    return;
  }
  const out = path.resolve(option(argv, '--out', path.join(REPOSITORY, 'output', 'screenshots')));
  const executablePath = option(argv, '--chromium', '/usr/bin/chromium');
  const root = mkdtempSync(path.join(os.tmpdir(), 'briefing-screenshots-'));
  try {
    const file = JSON.parse(readFileSync(path.join(REPOSITORY, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
    delete file.sampleSubscribers;
    const configFile = path.join(root, 'briefing.config.json');
    // One article a page, so the two seed articles make an archive page too.
    const paths = { content: path.join(REPOSITORY, 'content'), templates: path.join(REPOSITORY, 'templates'), output: 'output', data: 'data' };
    writeFileSync(configFile, JSON.stringify({ ...file, feed: { items: 1, archivePageSize: 1 }, paths }));
    const config = parseConfig(readFileSync(configFile, 'utf8'), configFile, readEnvironment({}));

    const articles = await loadContent(config);
    await buildSite(config, { articles });
    const { id, slot } = resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now: new Date(), date: SEED_EDITION });
    const edition = planEdition({ id, slot, timeZone: config.timeZone, siteUrl: config.siteUrl, articles, topics: config.topics, settings: config.edition, previous: undefined });
    const briefing = await renderBriefing(edition, { config, templates: await loadBriefingTemplates(config.paths.templates) });
    await publishEdition(config, { id, date: edition.date, slot, briefing });
    const email = personaliseBriefing(briefing, { name: 'Sample Reader', address: 'reader@example.com', unsubscribeUrl: `${config.siteUrl}unsubscribe?token=sample`, preferencesUrl: `${config.siteUrl}preferences?token=sample` });
    const emailFile = path.join(root, 'email.html');
    writeFileSync(emailFile, email.html);

    const newestArticle = [...articles].sort((a, b) => b.published.getTime() - a.published.getTime())[0];
    const site = (relative: string): string => path.join(config.paths.output, relative);
    const shots: Array<{ name: string; file: string; widths: readonly number[] }> = [
      { name: 'email', file: emailFile, widths: [600, 390] },
      { name: 'web-version', file: site(`editions/${id}/index.html`), widths: [1280, 390] },
      { name: 'home', file: site(INDEX_PATH), widths: [1280, 390] },
      { name: 'editions', file: site(EDITIONS_INDEX_PATH), widths: [1280, 390] },
      ...(newestArticle === undefined ? [] : [{ name: 'article', file: site(articlePagePath(newestArticle.id)), widths: [1280, 390] }]),
      { name: 'archive', file: site(archivePagePath(1)), widths: [1280, 390] },
    ];

    mkdirSync(out, { recursive: true });
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-background-networking'] });
    try {
      for (const shot of shots) {
        for (const width of shot.widths) {
          for (const scheme of SCHEMES) {
            const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme });
            await page.goto(`file://${shot.file}`);
            const target = path.join(out, `${shot.name}-${width}-${scheme}.png`);
            await page.screenshot({ path: target, fullPage: true });
            // Run in the page: a string, since this program is compiled without the DOM's types.
            const height = await page.evaluate<number>('document.documentElement.scrollHeight');
            process.stdout.write(`${path.relative(process.cwd(), target) || target}  ${width}×${height}\n`);
            await page.close();
          }
        }
      }
    } finally {
      await browser.close();
    }
    process.stdout.write(`email: ${(Buffer.byteLength(briefing.html) / 1000).toFixed(1)} KB of HTML, subject "${briefing.subject}"\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`screenshots: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
