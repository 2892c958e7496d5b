import type { DateTime } from 'luxon';
import { z } from 'zod';
import type { ArticleImage, ArticleVideo } from './article.js';
import { closeBidi, collapseWhitespace, hasControlCharacters, stripXmlIllegal } from './plain-text.js';
import { parsePublicationTime } from './publication-time.js';

/** What a record's front matter holds as written (the importer writes this shape). */
export interface RecordFrontMatter {
  title: string;
  published: string;
  updated?: string;
  source: string;
  url?: string;
  /** Link to the original story the record was written from. */
  sourceUrl?: string;
  /** The source's section label shown above its headline (e.g. "World"). */
  kicker?: string;
  topics?: string[];
  summary?: string;
  image?: { url: string; alt: string; caption?: string; credit?: string };
  images?: ArticleImage[];
  videos?: ArticleVideo[];
  credits?: string[];
}

/** What the rules of a front matter depend on: the configured topics and time zone. */
export interface FrontMatterRules {
  topicIds: readonly string[];
  timeZone: string;
}

const missingOr = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`);

/** One line of plain text: XML-illegal characters removed, white space collapsed, not empty. */
const line = z
  .string({ error: missingOr('text') })
  .transform((value) => closeBidi(collapseWhitespace(stripXmlIllegal(value))))
  .pipe(z.string().min(1, 'must not be empty'));

const title = z
  .string({ error: missingOr('text') })
  .refine((value) => !hasControlCharacters(value), 'must not contain control characters or line breaks')
  .transform((value) => closeBidi(value.trim()))
  .pipe(z.string().min(1, 'must not be empty'));

const webUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http or https URL' });

const section = z.union([line, z.null()], { error: 'must be a subheading of the body or null' }).optional();

const imageFields = {
  alt: line,
  caption: line.optional(),
  credit: line.optional(),
};

/** Message for front matter that is not a mapping at all; other issues keep zod's message. */
function frontMatterShape(issue: { code?: string; input?: unknown }): string | undefined {
  if (issue.code !== 'invalid_type') {
    return undefined;
  }
  return issue.input === undefined || issue.input === null ? 'the front matter is empty' : 'the front matter must be a mapping of fields';
}

/** Builds the zod schema of a record's front matter for one publication (its topics and zone). */
export function createFrontMatterSchema(rules: FrontMatterRules) {
  const known = new Set(rules.topicIds);
  const time = z.string({ error: missingOr('a date-time such as 2025-07-23T12:58:11+03:00') }).transform((value, context): DateTime => {
    const parsed = parsePublicationTime(value, rules.timeZone);
    if (!parsed) {
      context.addIssue({ code: 'custom', message: `"${value}" is not a date-time (use YYYY-MM-DDTHH:MM:SS with an optional offset)` });
      return z.NEVER;
    }
    return parsed;
  });
  const topicId = z.string({ error: 'must be a topic id' }).superRefine((id, context) => {
    if (!known.has(id)) {
      context.addIssue({ code: 'custom', message: `unknown topic "${id}" (topics in the config: ${[...known].join(', ')})` });
    }
  });

  return z
    .strictObject({
      title,
      published: time,
      updated: time.optional(),
      source: line,
      url: webUrl.optional(),
      sourceUrl: webUrl.optional(),
      kicker: line.optional(),
      topics: z.array(topicId, { error: 'must be a list of topic ids' }).optional(),
      summary: line.optional(),
      image: z.strictObject({ url: webUrl, ...imageFields }).optional(),
      images: z.array(z.strictObject({ url: webUrl.optional(), ...imageFields, section })).default([]),
      videos: z
        .array(
          z.strictObject({
            title: line,
            intro: line.optional(),
            age: line.optional(),
            duration: z.string().regex(/^\d{1,2}(:\d{2}){1,2}$/, 'must be a duration such as 2:08').optional(),
            description: line.optional(),
            url: webUrl.optional(),
            section,
          }),
        )
        .default([]),
      credits: z.array(line).default([]),
    }, { error: frontMatterShape })
    .superRefine((record, context) => {
      if (record.updated && record.published && record.updated.toMillis() < record.published.toMillis()) {
        context.addIssue({ code: 'custom', path: ['updated'], message: 'is earlier than published' });
      }
    });
}

/** The validated front matter, dates as luxon DateTimes in the publication zone. */
export type FrontMatter = z.output<ReturnType<typeof createFrontMatterSchema>>;
