import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seededRandom } from './seeded-random.js';

const WORDS = (
  'the a of and to in on for with as by at from after before during while officials said minister government ' +
  'delegation city region village week month year people report statement agency council parliament court law ' +
  'vote budget energy grain port border bridge railway power station water school hospital market price ' +
  'winter summer morning evening spokesperson analysts residents families volunteers observers diplomats'
).split(' ');

/** Words the repository's topic rules match, so the generated sections land in topics. */
const TOPIC_WORDS = ['peace talks', 'delegation', 'ceasefire', 'prisoners of war', 'protest', 'demonstration', 'anti-corruption', 'drones', 'front line', 'troops'];

function sentence(random: () => number): string {
  const length = 12 + Math.floor(random() * 14);
  const words = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)] as string);
  if (random() < 0.5) words.splice(Math.floor(random() * length), 0, TOPIC_WORDS[Math.floor(random() * TOPIC_WORDS.length)] as string);
  const text = words.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function paragraph(random: () => number, sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(random)).join(' ');
}

/** What one generated record says. */
export interface GeneratedRecord {
  /** File name (the article id plus `.md`). */
  name: string;
  text: string;
}

/**
 * One article record in the content format (YAML front matter and a Markdown body with `##`
 * sections), its words drawn from a generator seeded with `index` (plus `revision`, for an edit).
 */
export function generateRecord(index: number, published: Date, options: { paragraphs: number; revision?: number }): GeneratedRecord {
  const random = seededRandom(index * 7919 + (options.revision ?? 0) * 104_729 + 1);
  const id = `bench-${String(index).padStart(6, '0')}`;
  const title = sentence(random).slice(0, -1).split(' ').slice(0, 10).join(' ');
  const lines = [
    '---',
    `title: ${JSON.stringify(`${title} (${index})`)}`,
    `published: ${published.toISOString().replace(/\.\d{3}Z$/, '+00:00')}`,
    'source: Bench Wire',
    `url: https://news.example.org/story/${index}`,
    `summary: ${JSON.stringify(paragraph(random, 1))}`,
    '---',
  ];
  const body: string[] = [];
  for (let count = 0; count < options.paragraphs; count += 1) {
    if (count > 0 && count % 3 === 0) body.push(`## ${sentence(random).split(' ').slice(0, 6).join(' ')}`);
    body.push(paragraph(random, 2 + Math.floor(random() * 3)));
  }
  return { name: `${id}.md`, text: `${lines.join('\n')}\n${body.join('\n\n')}\n` };
}

/**
 * Writes `count` records into `dir`, the newest published at `newest` and each older one
 * `spacingMinutes` before it. Returns the records' names, newest first.
 */
export function writeRecords(dir: string, count: number, options: { newest: Date; spacingMinutes: number; paragraphs: number }): string[] {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let index = 1; index <= count; index += 1) {
    const published = new Date(options.newest.getTime() - (index - 1) * options.spacingMinutes * 60_000);
    const record = generateRecord(index, published, { paragraphs: options.paragraphs });
    writeFileSync(path.join(dir, record.name), record.text);
    names.push(record.name);
  }
  return names;
}
