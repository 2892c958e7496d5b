import type { Config } from '../config.js';
import type { ArticleImage, ArticleVideo, SiteArticle } from '../content/article.js';
import { newestEditionFirst } from '../feed/editions-feed.js';
import { webUrl } from '../feed/web-url.js';
import type { FeedPage } from '../feed/feed-pages.js';
import {
  EDITIONS_INDEX_PATH,
  FEED_FORMATS,
  FEED_MEDIA_TYPES,
  absoluteUrl,
  archivePagePath,
  articlePageHref,
  currentFeedPath,
  editionHref,
  editionsFeedPath,
  type FeedFormat,
} from './site-paths.js';
import { createIsoFormatter } from './iso-time.js';
import type { PublishedEdition } from './published-edition.js';
import type { SiteTemplates } from './site-templates.js';
import { zoneNamesFor } from '../zone-names.js';
import type { ArchivePageLink, ArticlePageView, FeedLinkView, FigureView, SiteView, TimeView, VideoView } from './site-views.js';

/** What the site pages need to know about the publication. */
export type PageSite = Pick<Config, 'title' | 'description' | 'siteUrl' | 'language' | 'direction' | 'timeZone' | 'topics'>;

const FEED_LABELS: Readonly<Record<FeedFormat, string>> = { rss: 'RSS', atom: 'Atom', json: 'JSON Feed' };

function siteView(site: PageSite, base: string): SiteView {
  const feedLinks = (title: string, path: (format: FeedFormat) => string): FeedLinkView[] =>
    FEED_FORMATS.map((format) => ({ type: FEED_MEDIA_TYPES[format], title: `${title} (${FEED_LABELS[format]})`, label: FEED_LABELS[format], href: `${base}${path(format)}` }));
  return {
    title: site.title,
    description: site.description,
    language: site.language,
    direction: site.direction,
    base,
    url: site.siteUrl,
    feeds: feedLinks(site.title, currentFeedPath),
    editions: { href: `${base}${EDITIONS_INDEX_PATH}`, feeds: feedLinks(`${site.title}: editions`, editionsFeedPath) },
    topics: site.topics.map((topic) => ({ id: topic.id, title: topic.title })),
  };
}

/** Formats times in the publication's zone and language, with the zone's abbreviation; one formatter serves every page of a build. */
function timeFormatter(site: PageSite): (date: Date) => TimeView {
  const text = new Intl.DateTimeFormat(site.language, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone: site.timeZone });
  const day = new Intl.DateTimeFormat(site.language, { dateStyle: 'medium', timeZone: site.timeZone });
  const iso = createIsoFormatter(site.timeZone);
  const named = zoneNamesFor(site.language, site.timeZone);
  return (date) => {
    let shownDay: string | undefined;
    // The day alone is formatted only if a page shows it (an archive page's range; no list of articles does): each costs some 10 µs.
    return {
      iso: iso(date),
      text: named(text.format(date), date),
      get date() {
        return (shownDay ??= day.format(date));
      },
    };
  };
}

function figureView(image: ArticleImage): FigureView {
  return { url: webUrl(image.url), alt: image.alt, caption: image.caption, credit: image.credit };
}

function videoView(video: ArticleVideo): VideoView {
  return {
    title: video.title,
    intro: video.intro,
    duration: video.duration,
    description: video.description,
    url: webUrl(video.url),
  };
}

/** Sections with the images and videos that sit in them; ones naming no known section go to the last. */
function sectionViews(article: SiteArticle): ArticlePageView['article']['sections'] {
  const sections: ArticlePageView['article']['sections'] = (article.sections.length > 0 ? article.sections : [{ heading: null, blocks: [] }]).map(
    (section) => ({ heading: section.heading, blocks: section.blocks.map((block) => ({ html: block.html })), images: [], videos: [] }),
  );
  const sectionOf = (heading: string | null | undefined) => {
    const found = sections.find((section) => section.heading === (heading ?? null));
    return found ?? (sections.at(-1) as (typeof sections)[number]);
  };
  for (const image of article.images) sectionOf(image.section).images.push(figureView(image));
  // A video that cannot be opened is a box to nowhere: only linked ones are shown.
  for (const video of article.videos) if (webUrl(video.url) !== undefined) sectionOf(video.section).videos.push(videoView(video));
  return sections;
}

/** Archive pages listed on each side of the current one; the first and the last are always listed. */
const LISTED_NEIGHBOURS = 5;

/**
 * The list of archive pages an archive page shows: the first, the last, and those around it, with a
 * gap for each run left out. Listing every page would make each page grow with the archive, and the
 * archive pages together with its square.
 */
function archivePageLinks(current: number, pageCount: number): ArchivePageLink[] {
  const links: ArchivePageLink[] = [];
  for (let number = 1; number <= pageCount; number += 1) {
    const listed = number === 1 || number === pageCount || Math.abs(number - current) <= LISTED_NEIGHBOURS;
    if (listed) {
      links.push({ number, href: `../${archivePagePath(number)}`, current: number === current, gap: false });
    } else {
      links.push({ number, href: '', current: false, gap: true });
      // Straight to the next listed page.
      number = number < current ? current - LISTED_NEIGHBOURS - 1 : pageCount - 1;
    }
  }
  return links;
}

/** Renders the site's pages for one publication and set of templates. */
export interface SitePages {
  /** An article's page (`articles/<id>.html`): sections, figures, videos, credits, source. */
  articlePage(article: SiteArticle): string;
  /**
   * A list of articles, as given (newest first): the home page (`index.html`, with the subscription
   * feed's articles) or an archive page (`archive/page-N.html`, with archive feed page N's, and
   * links to all `pageCount` archive pages).
   */
  listPage(page: FeedPage, pageCount: number): string;
  /** The editions' index (`editions/index.html`): the sent editions, newest first. */
  editionsPage(editions: readonly PublishedEdition[]): string;
}

/** Binds the templates to a publication, so what every page shares is worked out once per build. */
export function createSitePages(site: PageSite, templates: SiteTemplates): SitePages {
  const time = timeFormatter(site);
  // Newest first: a page's first article is its latest.
  const dateRange = (articles: readonly SiteArticle[]): { from: TimeView | undefined; to: TimeView | undefined; sameDay: boolean } => {
    const [newest, oldest] = [articles[0], articles.at(-1)];
    if (newest === undefined || oldest === undefined) return { from: undefined, to: undefined, sameDay: false };
    const [from, to] = [time(oldest.published), time(newest.published)];
    return { from, to, sameDay: from.date === to.date };
  };
  const titles = new Map(site.topics.map((topic) => [topic.id, topic.title]));
  const topicTitles = (article: SiteArticle): string[] => article.topics.map((id) => titles.get(id) ?? id);
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
          showSource: !article.credits.some((credit) => credit.includes(article.source)),
          topics: topicTitles(article),
          leadImage: article.image === undefined ? undefined : figureView(article.image),
          sections: sectionViews(article),
          credits: article.credits,
        },
      }),
    listPage: (page, pageCount) => {
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
        archive: archived
          ? {
              number: page.number,
              ...dateRange(page.articles),
              pages: archivePageLinks(page.number, pageCount),
            }
          : undefined,
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
    editionsPage: (editions) =>
      templates.renderEditions({
        site: nestedSite,
        canonical: absoluteUrl(site.siteUrl, EDITIONS_INDEX_PATH),
        editions: [...editions]
          .sort(newestEditionFirst)
          .map((edition) => ({ href: `../${editionHref(edition.id)}`, subject: edition.subject, preheader: edition.preheader, date: time(new Date(edition.slot)) })),
      }),
  };
}
