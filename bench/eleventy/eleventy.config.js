/**
 * The peer of `briefing build` in `npm run bench`: a minimal Eleventy 3 site over the same generated
 * records, doing what the build does with them the way an Eleventy user would. Each record is a page
 * with a layout (`articles/<id>.html`), the records are listed on archive pages of 20 by pagination
 * (counted from the oldest, as Briefing's are) and on a home page of the newest 20, and an Atom feed
 * of the newest 20 comes from @11ty/eleventy-plugin-rss. The bench runs it as
 * `eleventy --config=bench/eleventy/eleventy.config.js --input=CONTENT --output=OUT`.
 */
import { feedPlugin } from '@11ty/eleventy-plugin-rss';

const SITE = { title: 'Briefing', description: 'A daily briefing.', base: 'https://briefing.example.org/', language: 'en-GB' };
const PAGE_SIZE = 20;

const head = `<!doctype html>
<html lang="${SITE.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css">`;

/** The records, oldest first (the order pagination counts archive pages in and the feed plugin reverses). */
function records(collectionApi) {
  return collectionApi
    .getAll()
    .filter((item) => item.inputPath.endsWith('.md'))
    .sort((a, b) => a.data.published - b.data.published || (a.fileSlug < b.fileSlug ? -1 : 1));
}

const listItems = `<ol class="article-list">
{%- for post in posts %}
<li><article>
<h2><a href="{{ post.url }}">{{ post.data.title }}</a></h2>
<p class="meta"><time datetime="{{ post.data.published.toISOString() }}">{{ post.data.published.toUTCString() }}</time> · {{ post.data.source }}</p>
<p>{{ post.data.summary }}</p>
</article></li>
{%- endfor %}
</ol>`;

export default function (eleventyConfig) {
  eleventyConfig.setQuietMode(true);
  eleventyConfig.addCollection('posts', records);
  // Every record a page with a layout, at articles/<id>.html; the virtual templates below set their own.
  eleventyConfig.addGlobalData('layout', 'article.njk');
  eleventyConfig.addGlobalData('eleventyComputed', {
    permalink: (data) => (data.page.inputPath.endsWith('.md') ? `/articles/${data.page.fileSlug}.html` : data.permalink),
  });

  eleventyConfig.addTemplate(
    '_includes/article.njk',
    `${head}
<title>{{ title }} · ${SITE.title}</title>
<meta name="description" content="{{ summary }}">
</head>
<body>
<header class="masthead"><a href="/">${SITE.title}</a></header>
<main><article class="article">
<header><h1>{{ title }}</h1>
<p class="meta"><time datetime="{{ published.toISOString() }}">{{ published.toUTCString() }}</time> · {{ source }}</p></header>
{{ content | safe }}
<footer class="attribution"><p>Source: {% if url %}<a href="{{ url }}">{{ source }}</a>{% else %}{{ source }}{% endif %}</p></footer>
</article></main>
</body>
</html>
`,
  );

  eleventyConfig.addTemplate(
    'archive.njk',
    `${head}
<title>${SITE.title}: archive, page {{ pagination.pageNumber + 1 }}</title>
</head>
<body>
<header class="masthead"><a href="/">${SITE.title}</a></header>
<main>
<h1>Archive, page {{ pagination.pageNumber + 1 }}</h1>
${listItems}
<nav class="pages">
{%- if pagination.href.previous %}<a href="{{ pagination.href.previous }}">Older articles</a>{% endif %}
{%- if pagination.href.next %}<a href="{{ pagination.href.next }}">Newer articles</a>{% endif %}
</nav>
</main>
</body>
</html>
`,
    {
      layout: false,
      eleventyExcludeFromCollections: true,
      pagination: { data: 'collections.posts', size: PAGE_SIZE, alias: 'posts' },
      permalink: (data) => `/archive/page-${data.pagination.pageNumber + 1}.html`,
    },
  );

  eleventyConfig.addTemplate(
    'index.njk',
    `${head}
<title>${SITE.title}</title>
</head>
<body>
<header class="masthead"><a href="/">${SITE.title}</a></header>
<main>
<h1>Latest articles</h1>
{%- set posts = collections.posts | reverse | head(${PAGE_SIZE}) %}
${listItems}
</main>
</body>
</html>
`,
    { layout: false, eleventyExcludeFromCollections: true, permalink: '/index.html' },
  );
  eleventyConfig.addFilter('head', (items, count) => items.slice(0, count));

  eleventyConfig.addPlugin(feedPlugin, {
    type: 'atom',
    outputPath: '/atom.xml',
    collection: { name: 'posts', limit: PAGE_SIZE },
    metadata: { title: SITE.title, subtitle: SITE.description, language: SITE.language, base: SITE.base, author: { name: 'Briefing desk', email: 'desk@briefing.example.org' } },
  });

  return {
    // Records are not templates: their Markdown goes to markdown-it as it is, as Briefing's does.
    markdownTemplateEngine: false,
    templateFormats: ['md', 'njk'],
  };
}
