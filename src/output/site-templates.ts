import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { BriefingError, missingFolderHint, type Problem } from '../errors.js';
import { templateProblem } from '../template-problem.js';
import type { ArticlePageView, EditionsPageView, IndexPageView } from './site-views.js';

/** The files in templates/ that make the site pages; users restyle the site by editing them. */
export const SITE_TEMPLATE_FILES = {
  index: 'index.hbs',
  article: 'article.hbs',
  editions: 'editions.hbs',
  pageHead: 'page-head.hbs',
  subscribeForm: 'subscribe-form.hbs',
  siteFooter: 'site-footer.hbs',
  stylesheet: 'style.css',
} as const;

/** The text of each site template file. */
export type SiteTemplateSources = Record<keyof typeof SITE_TEMPLATE_FILES, string>;

/** Compiled site templates: Handlebars escapes every `{{value}}`, so only `{{{…}}}` can carry markup. */
export interface SiteTemplates {
  renderIndex(view: IndexPageView): string;
  renderArticle(view: ArticlePageView): string;
  renderEditions(view: EditionsPageView): string;
  /** Copied to output/style.css as it is. */
  stylesheet: string;
}

/** Reads the site templates from a templates folder; a missing file is an error that names it. */
export async function readSiteTemplates(folder: string): Promise<SiteTemplateSources> {
  const files = Object.entries(SITE_TEMPLATE_FILES);
  const results = await Promise.allSettled(files.map(([, file]) => readFile(path.join(folder, file), 'utf8')));
  // The first unreadable file in the declared order, whichever read failed first: the same error every run.
  const entries = results.map((result, index) => {
    const [key, file] = files[index] as [string, string];
    if (result.status === 'fulfilled') return [key, result.value] as const;
    const full = path.join(folder, file);
    const code = (result.reason as NodeJS.ErrnoException).code ?? String(result.reason);
    throw new BriefingError('output', 'template-unreadable', `cannot read the template ${path.relative(process.cwd(), full) || full}: ${code}${missingFolderHint(result.reason, 'paths.templates')}`, {
      cause: result.reason,
    });
  });
  return Object.fromEntries(entries) as SiteTemplateSources;
}

/** Templates that make a page, and the partials they share (`{{> page-head}}`), by the name they are used with. */
const PAGE_KEYS = ['index', 'article', 'editions'] as const;
type PageKey = (typeof PAGE_KEYS)[number];
const PARTIALS = { pageHead: 'page-head', subscribeForm: 'subscribe-form', siteFooter: 'site-footer' } as const;
type PartialKey = keyof typeof PARTIALS;

/** Compiles the site templates, reporting every syntax error at once with file and line. */
export function compileSiteTemplates(sources: SiteTemplateSources, folderName = 'templates'): SiteTemplates {
  const handlebars = Handlebars.create();
  const problems: Problem[] = [];
  // Parsed once: to report every syntax error here, and then compiled from the tree (which compiling
  // takes as it takes a text: the whitespace of standalone tags is trimmed then, and only then).
  const trees: Partial<Record<PageKey | PartialKey, hbs.AST.Program>> = {};
  for (const key of [...PAGE_KEYS, ...Object.keys(PARTIALS)] as Array<PageKey | PartialKey>) {
    try {
      trees[key] = handlebars.parseWithoutProcessing(sources[key]);
    } catch (error) {
      problems.push(templateProblem(`${folderName}/${SITE_TEMPLATE_FILES[key]}`, error));
    }
  }
  if (problems.length > 0) {
    throw BriefingError.fromProblems('output', 'invalid-template', problems, 'the site templates have errors');
  }
  // Compiled here: a partial registered as source is compiled again on every page it is used in.
  for (const [key, name] of Object.entries(PARTIALS)) handlebars.registerPartial(name, handlebars.compile(trees[key as PartialKey], { preventIndent: true }));
  // Errors only a render finds (an unknown partial or helper) name the template too.
  const compile = <View>(key: PageKey): ((view: View) => string) => {
    const template = handlebars.compile<View>(trees[key], { preventIndent: true });
    return (view) => {
      try {
        return template(view);
      } catch (error) {
        throw BriefingError.fromProblems('output', 'invalid-template', [templateProblem(`${folderName}/${SITE_TEMPLATE_FILES[key]}`, error)]);
      }
    };
  };
  return {
    renderIndex: compile<IndexPageView>('index'),
    renderArticle: compile<ArticlePageView>('article'),
    renderEditions: compile<EditionsPageView>('editions'),
    stylesheet: sources.stylesheet,
  };
}
