import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { BriefingError, missingFolderHint } from '../errors.js';
import { templateProblem } from '../template-problem.js';

/** One template file as read, for naming it (and its lines) in errors. */
export interface TemplateSource {
  /** Path as shown in errors (relative to the working directory). */
  file: string;
  text: string;
}

/** The briefing's templates, compiled once per process and filled once per edition. */
export interface BriefingTemplates {
  /** Fills `briefing.mjml` (and its partials) with the view: MJML, values HTML-escaped. */
  mjml(view: object): string;
  /** Fills `briefing.txt`: the plain-text part, values as they are. */
  text(view: object): string;
  /** `briefing.mjml` first, then the partials. */
  sources: readonly TemplateSource[];
}

const MAIN = 'briefing.mjml';
const TEXT = 'briefing.txt';
const PARTIALS = 'partials';

/**
 * Reads `briefing.mjml`, `briefing.txt` and `partials/**.mjml` (a partial is used by its path
 * without extension: `{{> story}}`, `{{> blocks/quote}}`) from the templates folder and compiles
 * them in a Handlebars environment of their own. Syntax errors name the file and line.
 */
export async function loadBriefingTemplates(dir: string): Promise<BriefingTemplates> {
  const read = async (name: string): Promise<TemplateSource> => {
    const absolute = path.join(dir, name);
    const file = path.relative(process.cwd(), absolute) || absolute;
    try {
      return { file, text: await readFile(absolute, 'utf8') };
    } catch (error) {
      throw new BriefingError('email', 'template-unreadable', `cannot read the template ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}${missingFolderHint(error, 'paths.templates')}`, {
        cause: error,
      });
    }
  };
  const partialNames = await listPartials(path.join(dir, PARTIALS));
  const [main, text, ...partials] = await Promise.all([read(MAIN), read(TEXT), ...partialNames.map((name) => read(path.join(PARTIALS, name)))]);
  return compileBriefingTemplates(main as TemplateSource, text as TemplateSource, partialNames.map((name, index) => ({ name: name.replace(/\.mjml$/, ''), source: partials[index] as TemplateSource })));
}

/** Compiles template texts (already read) into BriefingTemplates; exported for templates built in memory. */
export function compileBriefingTemplates(
  main: TemplateSource,
  text: TemplateSource,
  partials: ReadonlyArray<{ name: string; source: TemplateSource }>,
): BriefingTemplates {
  const handlebars = Handlebars.create();
  // `{{underline title "="}}`: a heading in the text part, the line as long as the title.
  handlebars.registerHelper('underline', (title: unknown, rule: unknown) => {
    const line = String(title);
    return `${line}\n${(typeof rule === 'string' ? rule : '=').repeat(Array.from(line).length)}`;
  });
  for (const partial of partials) {
    parseOrThrow(handlebars, partial.source);
    handlebars.registerPartial(partial.name, partial.source.text);
  }
  parseOrThrow(handlebars, main);
  parseOrThrow(handlebars, text);
  const mjml = handlebars.compile(main.text, { preventIndent: true });
  const plain = handlebars.compile(text.text, { noEscape: true, preventIndent: true });
  const fill = (source: TemplateSource, template: Handlebars.TemplateDelegate, view: object): string => {
    try {
      return template(view);
    } catch (error) {
      // Runtime errors: a missing partial, a helper that does not exist.
      throw new BriefingError('email', 'invalid-template', `${source.file}: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    mjml: (view) => fill(main, mjml, view),
    text: (view) => fill(text, plain, view),
    sources: [main, ...partials.map((partial) => partial.source)],
  };
}

/** Parses a template now, so a syntax error names its file and line before any edition is planned. */
function parseOrThrow(handlebars: typeof Handlebars, source: TemplateSource): void {
  try {
    handlebars.parse(source.text);
  } catch (error) {
    throw BriefingError.fromProblems('email', 'invalid-template', [templateProblem(source.file, error)], `${source.file} is not a valid template`);
  }
}

/** Partial files under `partials/`, as paths relative to it, in name order. */
async function listPartials(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return [];
    }
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.mjml'))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}
