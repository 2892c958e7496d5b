import { hash } from 'node:crypto';
import type { Topic } from '../config.js';
import type { Problem } from '../errors.js';
import { parseYamlSource, zodProblems, type YamlSource } from '../yaml-source.js';
import type { Article, ArticleSection } from './article.js';
import { splitFrontMatter } from './front-matter.js';
import { shortenOnWord, stripXmlIllegal } from './plain-text.js';
import { createFrontMatterSchema, type FrontMatter } from './record-schema.js';
import { createMarkdownRenderer, type RenderedSection } from './render-markdown.js';
import { createTopicMatcher, type TopicMatcher } from './topics.js';

/** The outcome of reading one record: an article (or what is kept of it), or every problem found in it. */
export type Parsed<T> = { article: T; problems?: undefined } | { article?: undefined; problems: Problem[] };
export type ParseResult = Parsed<Article>;

/** Reads record texts into articles with rules compiled once for the whole content folder. */
export interface ArticleParser {
  /** `file` is the path shown in problems; `id` comes from the file name. */
  parse(text: string, file: string, id: string): ParseResult;
  /**
   * The `html` that `parse` gives a record, without reading its front matter: for a record known to
   * parse (its bytes did before), whose feed entries want only that. Undefined without front matter.
   */
  html(text: string): string | undefined;
}

/** What a record is checked against: the publication's topics and time zone. */
export interface ArticleRules {
  topics: readonly Topic[];
  timeZone: string;
}

/** An id becomes a URL path and a feed id: lower-case ASCII words joined by dashes. */
const SAFE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SUMMARY_LENGTH = 300;

/** Creates a parser: one schema, one Markdown renderer and one topic matcher for all records. */
export function createArticleParser(rules: ArticleRules): ArticleParser {
  const schema = createFrontMatterSchema({ topicIds: rules.topics.map((topic) => topic.id), timeZone: rules.timeZone });
  const renderer = createMarkdownRenderer();
  const matcher = createTopicMatcher(rules.topics);

  const parse = (raw: string, file: string, id: string): ParseResult => {
    const problems: Problem[] = [];
    if (!SAFE_ID.test(id) || id.length > 200) {
      problems.push({ file, line: 1, field: 'id', message: `"${id}" (the file name) must be lower-case letters, digits and single dashes` });
    }
    const parts = splitFrontMatter(normalise(raw));
    if (typeof parts === 'string') {
      const message =
        parts === 'missing'
          ? 'missing: a record starts with a `---` line, its YAML fields, and another `---` line'
          : 'not closed: no `---` line ends the YAML fields that this line opens';
      problems.push({ file, line: 1, field: 'front matter', message });
      return { problems };
    }
    const source = parseYamlSource(parts.yaml, file, parts.yamlFirstLine);
    if (source.syntaxProblems.length > 0) {
      return { problems: [...problems, ...source.syntaxProblems] };
    }
    const parsed = schema.safeParse(source.value);
    const body = renderer.render(parts.body);
    const bodyLine = (line: number): number => parts.bodyFirstLine + Math.max(line, 1) - 1;
    if (body.sections.every((section) => section.blocks.length === 0)) {
      problems.push({ file, line: parts.bodyFirstLine, field: 'body', message: 'is empty: a record needs at least one paragraph' });
    }
    for (const section of body.sections) {
      if (section.heading === '') {
        problems.push({ file, line: bodyLine(section.line), field: 'body', message: 'has an empty subheading' });
      }
    }
    problems.push(...sectionReferenceProblems(source.value, body.sections, file, source));
    if (!parsed.success) {
      problems.push(...zodProblems(parsed.error, file, source, 'is not a field of an article record'));
    }
    if (!parsed.success || problems.length > 0) {
      return { problems: problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
    }
    return { article: toArticle(parsed.data, body, { id, file, raw, markdown: stripXmlIllegal(parts.body).trim(), matcher }) };
  };

  const html = (raw: string): string | undefined => {
    const parts = splitFrontMatter(normalise(raw));
    return typeof parts === 'string' ? undefined : renderer.render(parts.body).html;
  };

  return { parse, html };
}

/** A record's text with its byte-order mark dropped and its line endings made LF. */
function normalise(raw: string): string {
  return raw.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

/**
 * Images and videos may name the section they sit in: that subheading must exist in the body.
 * Checked on the raw YAML value, so it is reported together with any other problem of the record.
 */
function sectionReferenceProblems(value: unknown, sections: RenderedSection[], file: string, source: YamlSource): Problem[] {
  const headings = new Set(sections.map((section) => section.heading));
  const problems: Problem[] = [];
  for (const field of ['images', 'videos'] as const) {
    const items = isRecord(value) ? value[field] : undefined;
    if (!Array.isArray(items)) {
      continue;
    }
    items.forEach((item: unknown, index) => {
      const section = isRecord(item) ? item.section : undefined;
      if (typeof section === 'string' && !headings.has(section.trim())) {
        problems.push({ file, line: source.lineOf([field, index, 'section']), field: `${field}.${index}.section`, message: `no subheading "${section}" in the body` });
      }
    });
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Assembles the article: section topics from the rules, summary from the lede when not given. */
function toArticle(
  record: FrontMatter,
  body: { html: string; sections: RenderedSection[] },
  context: { id: string; file: string; raw: string; markdown: string; matcher: TopicMatcher },
): Article {
  const sections: ArticleSection[] = body.sections.map((section) => {
    const own = context.matcher.assign([section.heading ?? '', ...section.blocks.map((block) => block.text)].join('\n'));
    return { heading: section.heading, blocks: section.blocks, topics: own.length > 0 || !record.topics ? own : record.topics };
  });
  const topics = record.topics ?? [...new Set(sections.flatMap((section) => section.topics))];
  const lede = sections.find((section) => section.blocks.length > 0)?.blocks[0]?.text ?? '';
  const article: Article = {
    id: context.id,
    file: context.file,
    title: record.title,
    published: record.published.toJSDate(),
    source: record.source,
    topics,
    summary: record.summary ?? shortenOnWord(lede, SUMMARY_LENGTH),
    images: record.images,
    videos: record.videos,
    credits: record.credits,
    body: context.markdown,
    html: body.html,
    sections,
    contentHash: hash('sha256', context.raw, 'hex'),
  };
  if (record.updated) article.updated = record.updated.toJSDate();
  if (record.url) article.url = record.url;
  if (record.sourceUrl) article.sourceUrl = record.sourceUrl;
  if (record.kicker) article.kicker = record.kicker;
  if (record.image) article.image = record.image;
  return article;
}
