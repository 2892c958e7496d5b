import { createHash } from 'node:crypto';
import { BriefingError } from '../errors.js';
import { escapeMarkdown } from './markdown-escape.js';
import { collapseWhitespace, stripXmlIllegal } from './plain-text.js';
import { formatPublicationTime } from './publication-time.js';
import { parseWireDate } from './wire-date.js';
import type { RecordFrontMatter } from './record-schema.js';

/** A raw article turned into a record: its suggested id (file name), front matter and Markdown body. */
export interface ImportedRecord {
  id: string;
  frontMatter: RecordFrontMatter;
  body: string;
  /** Things a person should complete by hand, e.g. a `Source link` trailer that lost its URL. */
  notes: string[];
}

/** Where the text came from and what it cannot say itself. */
export interface ImportOptions {
  /** Shown in errors. */
  file: string;
  /** Publication time for a text without a `Published:` line (ISO 8601; no offset = `timeZone`). */
  published?: string;
  timeZone: string;
  /** Attribution written as `source:`. */
  source?: string;
}

/** A run of non-empty lines and the file line it starts on. */
interface Block {
  lines: string[];
  line: number;
}

type BodyItem = { kind: 'paragraph'; text: string } | { kind: 'heading'; text: string };

const PUBLISHED = /^Published:\s*([^|]*?)\s*(?:\|.*)?$/i;
const PUBLISHED_START = /^Published:/i;
/** `WATCH l Title:` — the source renders the separator glyph as a letter l or a bar. */
const WATCH = /^WATCH\s*[l|│┃]\s*(.*?)\s*:?$/;
const VIDEO_AGE = /^(?:\d+\s+(?:second|minute|hour|day|week|month|year)s?\s+ago|yesterday|today)$/i;
const VIDEO_DURATION = /^Duration\s+(\d{1,2}(?::\d{2}){1,2})$/i;
const CAPTION_CREDIT = /^(.*?)\s*\(([^()]+)\)$/;
const WITH_FILES = /^With files from\s+\S/i;
const SOURCE_LINK = /^Source link\b\s*:?\s*(\S*)$/i;
const KICKER = /^\p{L}[\p{L}&'’.-]{0,29}$/u;
const SENTENCE_END = /[.!?:;,…"”'’)\]]$/u;
const QUOTE_START = /^["“‘'«]/u;
const SLUG_LENGTH = 60;

/**
 * Turns raw news text (the seeds' format: optional one-word kicker, headline, optional
 * `Published: DATE | Views: N` (any form parseWireDate reads), paragraphs, subheadings, photo blocks, `WATCH` video
 * blocks, `Source link` / `With files from …` trailers) into a record. Pure: no file access.
 */
export function importRawArticle(text: string, options: ImportOptions): ImportedRecord {
  const blocks = splitBlocks(text);
  let index = 0;
  const first = blocks[0];
  const second = blocks[1];
  let kicker: string | undefined;
  if (first && second && blocks.length > 2 && first.lines.length === 1 && KICKER.test(first.lines[0] ?? '') && looksLikeHeadline(second)) {
    kicker = first.lines[0];
    index += 1;
  }
  const headlineBlock = blocks[index];
  if (!headlineBlock || PUBLISHED_START.test(headlineBlock.lines[0] ?? '')) {
    throw importError(options.file, headlineBlock?.line ?? 1, 'headline', 'no headline: the text must start with the headline (after an optional one-word section label)');
  }
  const title = headlineBlock.lines.join(' ');
  index += 1;

  let published: string | undefined;
  const dateBlock = blocks[index];
  if (dateBlock && PUBLISHED_START.test(dateBlock.lines[0] ?? '')) {
    const written = PUBLISHED.exec(dateBlock.lines[0] ?? '')?.[1] ?? '';
    const time = parseWireDate(written, options.timeZone);
    if (!time.ok) {
      throw importError(options.file, dateBlock.line, 'Published', `"${dateBlock.lines[0]}" is not a date it can read: ${time.problem}`);
    }
    published = formatPublicationTime(time.time);
    index += 1;
  } else if (options.published !== undefined) {
    const time = parseWireDate(options.published, options.timeZone);
    if (!time.ok) {
      throw importError(options.file, undefined, '--published', `"${options.published}" is not an ISO 8601 date-time such as 2025-07-23T20:30:00+03:00 (${time.problem})`);
    }
    published = formatPublicationTime(time.time);
  } else {
    throw importError(options.file, headlineBlock.line, 'Published', 'the text has no "Published:" line: a date is needed (give --published, e.g. 2025-07-31T18:02-04:00 or "July 31, 2025 6:02 PM EDT")');
  }

  const items: BodyItem[] = [];
  const images: NonNullable<RecordFrontMatter['images']> = [];
  const videos: NonNullable<RecordFrontMatter['videos']> = [];
  const credits: string[] = [];
  const notes: string[] = [];
  let sourceUrl: string | undefined;
  let section: string | null = null;

  while (index < blocks.length) {
    const block = blocks[index] as Block;
    const lead = block.lines[0] ?? '';
    index += 1;
    const watch = WATCH.exec(lead);
    if (watch) {
      const rest = block.lines.slice(1);
      if (rest.length === 0 && index < blocks.length && !isStructure(blocks[index] as Block)) {
        rest.push(...(blocks[index] as Block).lines);
        index += 1;
      }
      const [videoTitle, ...more] = rest;
      if (more.length === 0 && videoTitle !== undefined && index < blocks.length && !isStructure(blocks[index] as Block)) {
        more.push(...(blocks[index] as Block).lines);
        index += 1;
      }
      const age = more[0] !== undefined && VIDEO_AGE.test(more[0]) ? more.shift() : undefined;
      const duration = more[0] !== undefined ? VIDEO_DURATION.exec(more[0])?.[1] : undefined;
      if (duration !== undefined) {
        more.shift();
      }
      const intro = watch[1] || undefined;
      videos.push({
        title: videoTitle ?? intro ?? 'Video',
        intro: videoTitle === undefined ? undefined : intro,
        age,
        duration,
        description: more.length > 0 ? more.join(' ') : undefined,
        section,
      });
      continue;
    }
    if (block.lines.length === 1 && WITH_FILES.test(lead)) {
      credits.push(lead);
      continue;
    }
    const sourceLink = block.lines.length === 1 ? SOURCE_LINK.exec(lead) : null;
    if (sourceLink) {
      if (sourceLink[1] && /^https?:\/\/\S+$/.test(sourceLink[1])) {
        sourceUrl = sourceLink[1];
      } else {
        notes.push('the text ends with "Source link" but not its address: add `sourceUrl:` by hand');
      }
      continue;
    }
    const photo = photoOf(block);
    if (photo) {
      images.push({ ...photo, section });
      continue;
    }
    if (block.lines.length === 1 && looksLikeSubheading(lead) && index < blocks.length && !isTrailer(blocks[index] as Block)) {
      section = lead;
      items.push({ kind: 'heading', text: lead });
      continue;
    }
    items.push({ kind: 'paragraph', text: block.lines.join(' ') });
  }

  const summary = takeRepeatedDeck(items);
  if (!items.some((item) => item.kind === 'paragraph')) {
    throw importError(options.file, undefined, 'body', 'no paragraphs found after the headline');
  }
  if (options.source === undefined) {
    notes.push('no source was named: set `source:` (or import with --source NAME)');
  }

  const frontMatter: RecordFrontMatter = {
    title,
    published,
    source: options.source === undefined ? 'unknown' : collapseWhitespace(stripXmlIllegal(options.source)) || 'unknown',
    sourceUrl,
    kicker,
    summary,
    images: images.length > 0 ? images : undefined,
    videos: videos.length > 0 ? videos : undefined,
    credits: credits.length > 0 ? credits : undefined,
  };
  const body = items.map((item) => (item.kind === 'heading' ? `## ${escapeMarkdown(item.text)}` : escapeMarkdown(item.text))).join('\n\n');
  return { id: recordId(published, title), frontMatter, body, notes };
}

/** Normalises the text (line endings, odd spaces, control characters) and cuts it into blocks. */
function splitBlocks(text: string): Block[] {
  const lines = stripXmlIllegal(text.replace(/^\uFEFF/, ''))
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => collapseWhitespace(line.replace(/[\u0000-\u001F\u007F-\u009F\u00A0\u2000-\u200B\u2028\u2029\u202F\u205F\u3000\uFEFF]/g, ' ')));
  const blocks: Block[] = [];
  let current: Block | undefined;
  lines.forEach((line, index) => {
    if (line === '') {
      current = undefined;
    } else if (PUBLISHED_START.test(line)) {
      // The date line is its own block even when no blank line sets it off from the headline or the text.
      blocks.push({ lines: [line], line: index + 1 });
      current = undefined;
    } else if (current) {
      current.lines.push(line);
    } else {
      current = { lines: [line], line: index + 1 };
      blocks.push(current);
    }
  });
  return blocks;
}

/** A photo block: a description line (alt text) then a caption ending in `(Credit/Agency)`. */
function photoOf(block: Block): { alt: string; caption?: string; credit: string } | undefined {
  if (block.lines.length !== 2) {
    return undefined;
  }
  const [alt, captionLine] = block.lines as [string, string];
  const match = CAPTION_CREDIT.exec(captionLine);
  const credit = match?.[2]?.trim();
  if (!match || !credit) {
    return undefined;
  }
  return { alt, caption: match[1] || undefined, credit };
}

function isTrailer(block: Block): boolean {
  const lead = block.lines[0] ?? '';
  return block.lines.length === 1 && (WITH_FILES.test(lead) || SOURCE_LINK.test(lead));
}

/** Blocks that are never a video's title or description. */
function isStructure(block: Block): boolean {
  return WATCH.test(block.lines[0] ?? '') || isTrailer(block) || photoOf(block) !== undefined;
}

/** A short line with words and no closing punctuation, not a quotation: how the source sets subheadings. */
function looksLikeSubheading(line: string): boolean {
  return line.length <= 100 && line.split(' ').length <= 12 && /\p{L}/u.test(line) && !SENTENCE_END.test(line) && !QUOTE_START.test(line);
}

/** After a one-word kicker comes the headline: one line, no full stop, not the date line. */
function looksLikeHeadline(block: Block): boolean {
  const line = block.lines[0] ?? '';
  return block.lines.length === 1 && !PUBLISHED_START.test(line) && !/[.!]$/.test(line);
}

/**
 * The source repeats its deck (the summary under the headline) as the first paragraph of the story.
 * When it does, the deck becomes the record's summary and the text stays once, in the story.
 */
function takeRepeatedDeck(items: BodyItem[]): string | undefined {
  const deck = items[0];
  if (deck?.kind !== 'paragraph') {
    return undefined;
  }
  const next = items.slice(1).find((item) => item.kind === 'paragraph');
  if (next?.text !== deck.text) {
    return undefined;
  }
  items.shift();
  return deck.text;
}

/** `YYYY-MM-DD-words-of-the-headline`; a headline without Latin letters gets a short hash instead. */
function recordId(published: string, title: string): string {
  const words = title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  let slug = words.length <= SLUG_LENGTH ? words : words.slice(0, SLUG_LENGTH).replace(/-[^-]*$/, '');
  if (slug === '') {
    slug = createHash('sha256').update(title).digest('hex').slice(0, 8);
  }
  return `${published.slice(0, 10)}-${slug}`;
}

function importError(file: string, line: number | undefined, field: string, message: string): BriefingError {
  return BriefingError.fromProblems('import', 'invalid-raw-article', [{ file, line, field, message }], `${file} cannot be imported`);
}
