import { DateTime } from 'luxon';
import type { ArticleImage, ArticleVideo } from '../content/article.js';
import type { Edition, EditionItem, EditionSection } from '../edition/edition.js';
import type { TokenField } from './briefing.js';
import type { EmailBlock, EmailBlockRenderer } from './email-blocks.js';
import { absoluteUrl, articlePageHref } from '../output/site-paths.js';
import { oneLine } from './subject-line.js';
import { zoneNamesFor } from '../zone-names.js';

/** The publication facts a briefing shows. */
export interface BriefingPublication {
  title: string;
  siteUrl: string;
  language: string;
  direction: 'ltr' | 'rtl';
  timeZone: string;
  postalAddress: string;
}

/** An image with a picture; its caption (and credit), if any, goes under it. */
export interface ImageView {
  src: string;
  alt: string;
  /** Caption and credit, e.g. "Protesters in Kyiv on Tuesday (Thomas Peter/Reuters)"; empty for none. */
  caption: string;
}

/** A video the source embedded, as a linked line (email clients do not play video). */
export interface VideoView {
  title: string;
  url: string;
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

/** One article, told once, in its main section. */
export interface StoryView {
  articleId: string;
  /** Fragment id of the story's headline (`story-N`), for the contents and cross-references. */
  anchor: string;
  title: string;
  /** The headline's link: the canonical URL, else the article's page. */
  url: string;
  /** The article's page on the site, with every paragraph: "Read the full story" (text). */
  pageUrl: string;
  /** The same page as the HTML links it: relative in the web version, so a local `serve` keeps the reader. */
  pageHref: string;
  source: string;
  /** True only when an earlier version went out in an earlier edition. */
  updated: boolean;
  /** Time of the last change, written out in the publication's language and zone, with the zone's abbreviation. */
  time: string;
  parts: PartView[];
}

/** A story told in another section, listed here on one line: "Also: headline — see Section". */
export interface CrossReferenceView {
  title: string;
  anchor: string;
  sectionTitle: string;
  sectionAnchor: string;
}

/** One topic of the briefing with its stories and the stories of other sections it also concerns. */
export interface SectionView {
  id: string;
  anchor: string;
  title: string;
  stories: StoryView[];
  also: CrossReferenceView[];
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
  /** True for the public web version: no personal links, a subscribe link instead. */
  web: boolean;
  /** True when stories are shortened to their first paragraphs (`edition.body: digest`). */
  digest: boolean;
  subscribeUrl: string;
  /** The subscribe form and the home page as the HTML links them (relative in the web version). */
  subscribeHref: string;
  homeHref: string;
  publication: { title: string; siteUrl: string; postalAddress: string };
  /** Tokens substituted per recipient after the render. */
  recipient: { name: string; address: string };
  unsubscribeUrl: string;
  /** The subscriber's preference page: topics, pause, unsubscribe. */
  preferencesUrl: string;
  sections: SectionView[];
  empty: boolean;
}

/** How a briefing is shaped besides the edition. */
export interface BriefingViewContext {
  publication: BriefingPublication;
  subject: string;
  preheader: string;
  dateText: string;
  webUrl: string;
  web: boolean;
  body: 'digest' | 'full';
  tokens: Record<TokenField, string>;
  blocks: EmailBlockRenderer;
}

/** Characters of paragraphs a digest story shows at most, past its first paragraph. */
const DIGEST_CHARACTERS = 360;

/**
 * Shapes an edition for the templates. Each article is told once, in its main section (the one
 * holding most of its paragraphs, the earlier on a tie), and listed as a cross-reference in the
 * other sections it was routed to. A digest shows the first paragraphs of the main section's part
 * and the lead picture; a full briefing every part of the story. Times are written in the
 * publication's language and zone.
 */
export function buildBriefingView(edition: Edition, context: BriefingViewContext): BriefingView {
  const { publication, blocks } = context;
  const digest = context.body === 'digest';
  const named = zoneNamesFor(publication.language, publication.timeZone);
  const time = (item: EditionItem): string => {
    const instant = item.updated ?? item.published;
    return named(DateTime.fromJSDate(instant, { zone: publication.timeZone }).setLocale(publication.language).toLocaleString({ weekday: 'short', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }), instant);
  };
  // Titles, headings and captions are one line each, whatever a record held.
  const part = (item: EditionItem): PartView => ({
    heading: item.heading === null ? null : oneLine(item.heading),
    blocks: item.blocks.map((block) => blocks.render(block, item.url)),
    images: item.images.flatMap(imageView),
    videos: item.videos.flatMap(videoView),
  });

  const home = mainSections(edition.sections);
  const anchors = new Map([...home.keys()].map((articleId, index) => [articleId, `story-${index + 1}`]));
  const sectionAnchor = (id: string): string => `section-${id}`;
  const sectionTitles = new Map(edition.sections.map((section) => [section.id, section.title]));
  // The web version is a page of the site (editions/ID/index.html): its links into the site are
  // relative, so they stay on the server it came from; the email's stay absolute.
  const siteHref = (url: string): string => (context.web && url.startsWith(publication.siteUrl) ? `../../${url.slice(publication.siteUrl.length)}` : url);

  const sections = edition.sections.map((section): SectionView => {
    const stories: StoryView[] = [];
    const also: CrossReferenceView[] = [];
    for (const articleId of new Set(section.items.map((item) => item.articleId))) {
      const main = home.get(articleId) ?? section.id;
      const items = section.items.filter((item) => item.articleId === articleId);
      const first = items[0] as EditionItem;
      const anchor = anchors.get(articleId) ?? '';
      if (main !== section.id) {
        also.push({ title: oneLine(first.title), anchor, sectionTitle: sectionTitles.get(main) ?? '', sectionAnchor: sectionAnchor(main) });
        continue;
      }
      // A full briefing tells here the parts routed elsewhere too: the other sections only point here.
      const told = digest ? items : edition.sections.flatMap((other) => other.items.filter((item) => item.articleId === articleId));
      const parts = told.map(part);
      stories.push({
        articleId,
        anchor,
        title: oneLine(first.title),
        url: siteHref(first.url),
        pageUrl: absoluteUrl(publication.siteUrl, articlePageHref(articleId)),
        pageHref: siteHref(absoluteUrl(publication.siteUrl, articlePageHref(articleId))),
        source: oneLine(first.source),
        updated: first.toldBefore,
        time: time(first),
        parts: digest ? [digestPart(parts)] : parts,
      });
    }
    return { id: section.id, anchor: sectionAnchor(section.id), title: section.title, stories, also };
  });
  return {
    lang: publication.language,
    dir: publication.direction,
    subject: context.subject,
    preheader: context.preheader,
    editionId: edition.id,
    dateText: context.dateText,
    webUrl: context.webUrl,
    web: context.web,
    digest,
    subscribeUrl: `${publication.siteUrl}#subscribe`,
    subscribeHref: siteHref(`${publication.siteUrl}#subscribe`),
    homeHref: siteHref(publication.siteUrl),
    publication: { title: publication.title, siteUrl: publication.siteUrl, postalAddress: publication.postalAddress },
    recipient: { name: context.tokens.name, address: context.tokens.address },
    unsubscribeUrl: context.tokens.unsubscribeUrl,
    preferencesUrl: context.tokens.preferencesUrl,
    sections,
    empty: edition.empty,
  };
}

/** Article id → id of the section holding most of its paragraphs (the earlier section on a tie). */
function mainSections(sections: readonly EditionSection[]): Map<string, string> {
  const best = new Map<string, { sectionId: string; paragraphs: number }>();
  for (const section of sections) {
    const counts = new Map<string, number>();
    for (const item of section.items) {
      counts.set(item.articleId, (counts.get(item.articleId) ?? 0) + item.blocks.length);
    }
    for (const [articleId, paragraphs] of counts) {
      const current = best.get(articleId);
      if (current === undefined || paragraphs > current.paragraphs) {
        best.set(articleId, { sectionId: section.id, paragraphs });
      }
    }
  }
  return new Map([...best].map(([articleId, { sectionId }]) => [articleId, sectionId]));
}

/** A digest of a story's parts: its first paragraphs (at least one) and its first picture, no heading. */
function digestPart(parts: readonly PartView[]): PartView {
  const all = parts.flatMap((part) => part.blocks);
  const kept: EmailBlock[] = [];
  let length = 0;
  for (const block of all) {
    if (kept.length > 0 && length + block.text.length > DIGEST_CHARACTERS) {
      break;
    }
    kept.push(block);
    length += block.text.length;
  }
  const image = parts.flatMap((part) => part.images)[0];
  return { heading: null, blocks: kept, images: image === undefined ? [] : [image], videos: [] };
}

/** An image as shown: only a web image (a data: or file: source never reaches a mail client). */
function imageView(image: ArticleImage): ImageView[] {
  if (image.url === undefined || !/^https?:\/\//i.test(image.url)) {
    return [];
  }
  const described = oneLine(image.caption ?? '');
  const caption = described === '' || image.credit === undefined ? described : `${described} (${oneLine(image.credit)})`;
  const alt = oneLine(image.alt) === '' ? described : oneLine(image.alt);
  return [{ src: image.url, alt, caption }];
}

/** A video as a linked line; one with no web link is left to the full story. */
function videoView(video: ArticleVideo): VideoView[] {
  if (video.url === undefined || !/^https?:\/\//i.test(video.url)) {
    return [];
  }
  return [
    {
      title: oneLine(video.title),
      url: video.url,
      ...(video.duration === undefined ? {} : { duration: video.duration }),
      ...(video.description === undefined ? {} : { description: video.description }),
    },
  ];
}
