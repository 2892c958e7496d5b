import type { Config } from '../config.js';
import type { Article, ArticleImage, ArticleVideo } from '../content/article.js';
import type { FeedPage } from '../feed/feed-pages.js';
import { FEED_FORMATS, FEED_MEDIA_TYPES, absoluteUrl, archivePagePath, articlePageHref, currentFeedPath, type FeedFormat } from './site-paths.js';
import { createIsoFormatter } from './iso-time.js';
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

/** The view the index template gets, for the home page and for each archive page. */
export interface IndexPageView {
  site: SiteView;
  /** Absolute URL of this page. */
  canonical: string;
  /** Set on an archive page (`archive/page-N.html`), absent on the home page. */
  archive: { number: number } | undefined;
  /** Links (relative to this page) to the pages with the next newer and the next older articles, if any. */
  pages: { newer: string | undefined; older: string | undefined } | undefined;
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

/** Formats times in the publication's zone and language; one formatter of each kind serves every page of a build. */
function timeFormatter(site: PageSite): (date: Date) => TimeView {
  const text = new Intl.DateTimeFormat(site.language, { dateStyle: 'medium', timeStyle: 'short', timeZone: site.timeZone });
  const iso = createIsoFormatter(site.timeZone);
  return (date) => ({ iso: iso(date), text: text.format(date) });
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

/** Renders the site's pages for one publication and set of templates. */
export interface SitePages {
  /** An article's page (`articles/<id>.html`): sections, figures, videos, credits, source. */
  articlePage(article: Article): string;
  /**
   * A list of articles, as given (newest first): the home page (`index.html`, with the subscription
   * feed's articles) or an archive page (`archive/page-N.html`, with archive feed page N's).
   */
  listPage(page: FeedPage): string;
}

/** Binds the templates to a publication, so what every page shares is worked out once per build. */
export function createSitePages(site: PageSite, templates: SiteTemplates): SitePages {
  const time = timeFormatter(site);
  const titles = new Map(site.topics.map((topic) => [topic.id, topic.title]));
  const topicTitles = (article: Article): string[] => article.topics.map((id) => titles.get(id) ?? id);
  // Pages at the root (the home page) and one folder down (articles/, archive/).
  const rootSite = siteView(site, './');
  const nestedSite = siteView(site, '../');
  return {
    articlePage: (article) =>
      templates.renderArticle({
        site: nestedSite,
        article: {
          title: article.title,
          kicker: article.kicker,
          summary: article.summary,
          canonical: webUrl(article.url) ?? absoluteUrl(site.siteUrl, articlePageHref(article.id)),
          published: time(article.published),
          updated: article.updated === undefined ? undefined : time(article.updated),
          source: article.source,
          sourceUrl: webUrl(article.sourceUrl),
          topics: topicTitles(article),
          leadImage: article.image === undefined ? undefined : figureView(article.image),
          sections: sectionViews(article),
          credits: article.credits,
        },
      }),
    listPage: (page) => {
      // Hrefs relative to the page: the home page is at the root, archive pages one folder down.
      const archived = page.kind === 'archive';
      const toRoot = archived ? '../' : '';
      const archivePage = (number: number): string => `${toRoot}${archivePagePath(number)}`;
      // The articles just newer than the newest archive page's are on the home page.
      const newer = page.nextArchive !== undefined ? archivePage(page.nextArchive) : archived ? toRoot : undefined;
      const older = page.prevArchive === undefined ? undefined : archivePage(page.prevArchive);
      return templates.renderIndex({
        site: archived ? nestedSite : rootSite,
        canonical: absoluteUrl(site.siteUrl, archived ? archivePagePath(page.number) : ''),
        archive: archived ? { number: page.number } : undefined,
        pages: newer === undefined && older === undefined ? undefined : { newer, older },
        articles: page.articles.map((article) => ({
          title: article.title,
          href: `${toRoot}${articlePageHref(article.id)}`,
          published: time(article.published),
          source: article.source,
          summary: article.summary,
          topics: topicTitles(article),
        })),
      });
    },
  };
}
