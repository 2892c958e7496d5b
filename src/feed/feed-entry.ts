import Handlebars from 'handlebars';
import { lastChanged, type SiteArticle } from '../content/article.js';
import { stripXmlIllegal } from '../content/plain-text.js';
import { absoluteUrl, articlePageHref } from './feed-links.js';
import { webUrl } from './web-url.js';
import type { FeedSite } from './feed-site.js';

/** An article as every feed format shows it: text safe for XML, links absolute, dates final. */
export interface FeedEntry {
  /** Absolute URL of the article's page: derived from the article id, so it never changes. */
  id: string;
  /** Where a reader goes: the article's canonical URL, else its page. */
  link: string;
  title: string;
  /** Plain text. */
  summary: string;
  /** Sanitised HTML: lead image, body, source attribution. */
  contentHtml: string;
  published: Date;
  /** The article's own last change, never the build time. */
  updated: Date;
  categories: ReadonlyArray<{ term: string; label: string }>;
  imageUrl: string | undefined;
  /** Who the item is by: the record's source (the publication's desk when empty). */
  authors: readonly string[];
  /** Pictures with a web URL, for enclosures: type from the file name, length unknown (no fetching at build time). */
  images: ReadonlyArray<{ url: string; type: string; alt: string }>;
}

/** Media types of the picture file extensions feeds see; any other picture is announced as JPEG, the common case. */
const IMAGE_TYPES: Readonly<Record<string, string>> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif', svg: 'image/svg+xml' };

/** The media type of a picture URL, from its path's extension. */
function imageType(url: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase() ?? '';
  return IMAGE_TYPES[extension] ?? 'image/jpeg';
}

const handlebars = Handlebars.create();

/** The entry's content; `{{{html}}}` is the loader's sanitised body, everything else is escaped. */
const renderContent = handlebars.compile<{
  html: string;
  image: { url: string; alt: string; caption?: string; credit?: string } | undefined;
  source: string;
  sourceUrl: string | undefined;
  credits: string[];
  videos: Array<{ title: string; url: string }>;
}>(
  [
    // The alt text again as title: newsboat (2.21) labels a picture "[image 1: …]" from its title only, "[image 1]" otherwise.
    '{{#if image}}<figure><img src="{{image.url}}" alt="{{image.alt}}" title="{{image.alt}}">',
    '{{#if image.caption}}<figcaption>{{image.caption}}{{#if image.credit}} ({{image.credit}}){{/if}}</figcaption>{{/if}}</figure>\n{{/if}}',
    '{{{html}}}\n',
    '{{#each videos}}<p>Video: <a href="{{url}}">{{title}}</a></p>\n{{/each}}',
    '<p>Source: {{#if sourceUrl}}<a href="{{sourceUrl}}">{{source}}</a>{{else}}{{source}}{{/if}}{{#each credits}}. {{this}}{{/each}}</p>',
  ].join(''),
  { knownHelpersOnly: true },
);

/** Turns an article into the entry the three feed formats are built from. */
export function toFeedEntry(article: SiteArticle, site: Pick<FeedSite, 'siteUrl' | 'topics'>): FeedEntry {
  const page = absoluteUrl(site.siteUrl, articlePageHref(article.id));
  const imageUrl = webUrl(article.image?.url);
  // Every picture in the feed HTML has alt text: readers like newsboat show it in place of the picture.
  const image = article.image && imageUrl ? { ...article.image, url: imageUrl, alt: article.image.alt.trim() || article.image.caption || article.title } : undefined;
  const titles = new Map(site.topics.map((topic) => [topic.id, topic.title]));
  const contentHtml = renderContent({
    html: article.html,
    image,
    source: article.source,
    sourceUrl: webUrl(article.sourceUrl),
    credits: article.credits,
    // Feed readers play no embedded video: a linked line for each one that can be opened.
    videos: article.videos.flatMap((video) => {
      const url = webUrl(video.url);
      return url === undefined ? [] : [{ title: video.title, url }];
    }),
  });
  return {
    id: page,
    link: webUrl(article.url) ?? page,
    title: stripXmlIllegal(article.title),
    summary: stripXmlIllegal(article.summary),
    contentHtml: stripXmlIllegal(contentHtml),
    published: article.published,
    updated: lastChanged(article),
    categories: article.topics.map((term) => ({ term, label: stripXmlIllegal(titles.get(term) ?? term) })),
    imageUrl,
    authors: article.source.trim() === '' ? [] : [stripXmlIllegal(article.source)],
    images: [article.image, ...article.images].flatMap((picture) => {
      const url = webUrl(picture?.url);
      return picture === undefined || url === undefined ? [] : [{ url, type: imageType(url), alt: stripXmlIllegal(picture.alt) }];
    }),
  };
}
