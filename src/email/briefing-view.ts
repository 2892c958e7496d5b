import { DateTime } from 'luxon';
import type { ArticleImage, ArticleVideo } from '../content/article.js';
import type { Edition, EditionItem } from '../edition/edition.js';
import type { TokenField } from './briefing.js';
import type { EmailBlock, EmailBlockRenderer } from './email-blocks.js';
import { oneLine } from './subject-line.js';

/** The publication facts a briefing shows. */
export interface BriefingPublication {
  title: string;
  siteUrl: string;
  language: string;
  direction: 'ltr' | 'rtl';
  timeZone: string;
  postalAddress: string;
}

/** An image as the templates show it: with a picture (`src`) or as its caption alone. */
export interface ImageView {
  src?: string;
  alt: string;
  /** Caption and credit, e.g. "Protesters in Kyiv on Tuesday (Thomas Peter/Reuters)". */
  caption: string;
}

/** A video the source embedded, as a line of text (email clients do not play video). */
export interface VideoView {
  title: string;
  url?: string;
  duration?: string;
  description?: string;
}

/** One article section within a story: its heading, paragraphs and media. */
export interface PartView {
  heading: string | null;
  blocks: EmailBlock[];
  images: ImageView[];
  videos: VideoView[];
}

/** One article within a section, its parts in the article's order. */
export interface StoryView {
  articleId: string;
  title: string;
  url: string;
  source: string;
  updated: boolean;
  /** Time of the last change, written out in the publication's language and zone. */
  time: string;
  parts: PartView[];
}

/** One topic of the briefing with its stories. */
export interface SectionView {
  id: string;
  title: string;
  stories: StoryView[];
}

/** Everything `briefing.mjml` and `briefing.txt` are filled with. */
export interface BriefingView {
  lang: string;
  dir: 'ltr' | 'rtl';
  subject: string;
  preheader: string;
  editionId: string;
  dateText: string;
  webUrl: string;
  publication: { title: string; siteUrl: string; postalAddress: string };
  /** Tokens substituted per recipient after the render. */
  recipient: { name: string; address: string };
  unsubscribeUrl: string;
  sections: SectionView[];
  empty: boolean;
}

/**
 * Shapes an edition for the templates: consecutive items of one article become one story, blocks
 * get their email HTML and text, times are written in the publication's language and zone.
 */
export function buildBriefingView(
  edition: Edition,
  context: {
    publication: BriefingPublication;
    subject: string;
    preheader: string;
    dateText: string;
    webUrl: string;
    tokens: Record<TokenField, string>;
    blocks: EmailBlockRenderer;
  },
): BriefingView {
  const { publication, blocks } = context;
  const time = (item: EditionItem): string =>
    DateTime.fromJSDate(item.updated ?? item.published, { zone: publication.timeZone })
      .setLocale(publication.language)
      .toLocaleString({ weekday: 'short', hour: 'numeric', minute: '2-digit' });
  // Titles, headings and captions are one line each, whatever a record held.
  const part = (item: EditionItem): PartView => ({
    heading: item.heading === null ? null : oneLine(item.heading),
    blocks: item.blocks.map((block) => blocks.render(block, item.url)),
    images: item.images.map(imageView),
    videos: item.videos.map(videoView),
  });
  const sections = edition.sections.map((section) => {
    const stories: StoryView[] = [];
    for (const item of section.items) {
      const last = stories.at(-1);
      if (last?.articleId === item.articleId) {
        last.parts.push(part(item));
      } else {
        stories.push({
          articleId: item.articleId,
          title: oneLine(item.title),
          url: item.url,
          source: oneLine(item.source),
          updated: item.status === 'updated',
          time: time(item),
          parts: [part(item)],
        });
      }
    }
    return { id: section.id, title: section.title, stories };
  });
  return {
    lang: publication.language,
    dir: publication.direction,
    subject: context.subject,
    preheader: context.preheader,
    editionId: edition.id,
    dateText: context.dateText,
    webUrl: context.webUrl,
    publication: { title: publication.title, siteUrl: publication.siteUrl, postalAddress: publication.postalAddress },
    recipient: { name: context.tokens.name, address: context.tokens.address },
    unsubscribeUrl: context.tokens.unsubscribeUrl,
    sections,
    empty: edition.empty,
  };
}

function imageView(image: ArticleImage): ImageView {
  const described = oneLine(image.caption ?? image.alt);
  const caption = image.credit === undefined ? described : `${described} (${oneLine(image.credit)})`;
  const alt = oneLine(image.alt) === '' ? described : oneLine(image.alt);
  // Only web images: a data: or file: source never reaches a mail client.
  return image.url !== undefined && /^https?:\/\//i.test(image.url)
    ? { src: image.url, alt, caption: image.caption === undefined ? '' : caption }
    : { alt, caption };
}

function videoView(video: ArticleVideo): VideoView {
  return {
    title: oneLine(video.title),
    ...(video.url !== undefined && /^https?:\/\//i.test(video.url) ? { url: video.url } : {}),
    ...(video.duration === undefined ? {} : { duration: video.duration }),
    ...(video.description === undefined ? {} : { description: video.description }),
  };
}
