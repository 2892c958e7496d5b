import { DateTime } from 'luxon';
import type { Config } from '../config.js';
import type { Article, ArticleImage, ArticleVideo } from '../content/article.js';
import { FEED_FORMATS, FEED_MEDIA_TYPES, absoluteUrl, articlePageHref, currentFeedPath, type FeedFormat } from './site-paths.js';
import type { SiteTemplates } from './site-templates.js';
import { webUrl } from './web-url.js';

/** What the site pages need to know about the publication. */
export type PageSite = Pick<Config, 'title' | 'description' | 'siteUrl' | 'language' | 'direction' | 'timeZone' | 'topics'>;

interface SiteView {
  title: string;
  description: string;
  language: string;
  direction: 'ltr' | 'rtl';
  /** Relative path from the page to the site root (`./` or `../`), so pages work wherever they are served. */
  base: string;
  /** Absolute URL of the home page. */
  url: string;
  /** Feed autodiscovery and feed links. */
  feeds: Array<{ type: string; title: string; label: string; href: string }>;
}

interface TimeView {
  /** ISO 8601 with the publication zone's offset, for `<time datetime>`. */
  iso: string;
  /** Date and time as readers of the publication's language write them, in its zone. */
  text: string;
}

interface FigureView {
  url: string | undefined;
  alt: string;
  caption: string | undefined;
  credit: string | undefined;
}

interface VideoView {
  title: string;
  intro: string | undefined;
  age: string | undefined;
  duration: string | undefined;
  description: string | undefined;
  url: string | undefined;
}

/** The view the index template gets. */
export interface IndexPageView {
  site: SiteView;
  articles: Array<{ title: string; href: string; published: TimeView; source: string; summary: string; topics: string[] }>;
}

/** The view the article template gets; `blocks[].html` is the loader's sanitised HTML. */
export interface ArticlePageView {
  site: SiteView;
  article: {
    title: string;
    kicker: string | undefined;
    summary: string;
    canonical: string;
    published: TimeView;
    updated: TimeView | undefined;
    source: string;
    sourceUrl: string | undefined;
    topics: string[];
    leadImage: FigureView | undefined;
    sections: Array<{ heading: string | null; blocks: Array<{ html: string }>; images: FigureView[]; videos: VideoView[] }>;
    credits: string[];
  };
}

const FEED_LABELS: Readonly<Record<FeedFormat, string>> = { rss: 'RSS', atom: 'Atom', json: 'JSON Feed' };

function siteView(site: PageSite, base: string): SiteView {
  return {
    title: site.title,
    description: site.description,
    language: site.language,
    direction: site.direction,
    base,
    url: site.siteUrl,
    feeds: FEED_FORMATS.map((format) => ({
      type: FEED_MEDIA_TYPES[format],
      title: `${site.title} (${FEED_LABELS[format]})`,
      label: FEED_LABELS[format],
      href: absoluteUrl(site.siteUrl, currentFeedPath(format)),
    })),
  };
}

function timeView(date: Date, site: PageSite): TimeView {
  const local = DateTime.fromJSDate(date, { zone: site.timeZone }).setLocale(site.language);
  return { iso: local.toISO({ suppressMilliseconds: true }) ?? date.toISOString(), text: local.toLocaleString(DateTime.DATETIME_MED) };
}

function topicTitles(article: Article, site: PageSite): string[] {
  const titles = new Map(site.topics.map((topic) => [topic.id, topic.title]));
  return article.topics.map((id) => titles.get(id) ?? id);
}

function figureView(image: ArticleImage): FigureView {
  return { url: webUrl(image.url), alt: image.alt, caption: image.caption, credit: image.credit };
}

function videoView(video: ArticleVideo): VideoView {
  return {
    title: video.title,
    intro: video.intro,
    age: video.age,
    duration: video.duration,
    description: video.description,
    url: webUrl(video.url),
  };
}

/** Sections with the images and videos that sit in them; ones naming no known section go to the last. */
function sectionViews(article: Article): ArticlePageView['article']['sections'] {
  const sections: ArticlePageView['article']['sections'] = (article.sections.length > 0 ? article.sections : [{ heading: null, blocks: [] }]).map(
    (section) => ({ heading: section.heading, blocks: section.blocks.map((block) => ({ html: block.html })), images: [], videos: [] }),
  );
  const sectionOf = (heading: string | null | undefined) => {
    const found = sections.find((section) => section.heading === (heading ?? null));
    return found ?? (sections.at(-1) as (typeof sections)[number]);
  };
  for (const image of article.images) sectionOf(image.section).images.push(figureView(image));
  for (const video of article.videos) sectionOf(video.section).videos.push(videoView(video));
  return sections;
}

/** Renders an article's page (`articles/<id>.html`): sections, figures, videos, credits, source. */
export function renderArticlePage(article: Article, site: PageSite, templates: SiteTemplates): string {
  const ownUrl = absoluteUrl(site.siteUrl, articlePageHref(article.id));
  return templates.renderArticle({
    site: siteView(site, '../'),
    article: {
      title: article.title,
      kicker: article.kicker,
      summary: article.summary,
      canonical: webUrl(article.url) ?? ownUrl,
      published: timeView(article.published, site),
      updated: article.updated === undefined ? undefined : timeView(article.updated, site),
      source: article.source,
      sourceUrl: webUrl(article.sourceUrl),
      topics: topicTitles(article, site),
      leadImage: article.image === undefined ? undefined : figureView(article.image),
      sections: sectionViews(article),
      credits: article.credits,
    },
  });
}

/** Renders the home page (`index.html`): the articles as given (newest first), feeds and subscribe form. */
export function renderIndexPage(articles: readonly Article[], site: PageSite, templates: SiteTemplates): string {
  return templates.renderIndex({
    site: siteView(site, './'),
    articles: articles.map((article) => ({
      title: article.title,
      href: articlePageHref(article.id),
      published: timeView(article.published, site),
      source: article.source,
      summary: article.summary,
      topics: topicTitles(article, site),
    })),
  });
}
