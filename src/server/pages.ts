import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { BriefingError, formatProblem } from '../errors.js';
import { templateProblem } from '../template-problem.js';

/** The pages and the one email the server renders, each a template in templates/web/. */
export type PageName =
  | 'subscribe-received'
  | 'subscribe-invalid'
  | 'confirm'
  | 'confirmed'
  | 'unsubscribe'
  | 'unsubscribed'
  | 'preferences'
  | 'preferences-closed'
  | 'link-invalid'
  | 'error'
  | 'confirmation-email.txt';

const PAGE_NAMES: readonly PageName[] = [
  'subscribe-received',
  'subscribe-invalid',
  'confirm',
  'confirmed',
  'unsubscribe',
  'unsubscribed',
  'preferences',
  'preferences-closed',
  'link-invalid',
  'error',
  'confirmation-email.txt',
];

/** Publication facts every page shows. */
export interface PageSite {
  title: string;
  language: string;
  direction: 'ltr' | 'rtl';
  /** The path of the site URL (`/` or `/briefing/`): links and form actions start with it. */
  base: string;
}

/** Renders a server page or the confirmation email from its template. */
export interface Pages {
  render(name: PageName, data: Record<string, unknown>): string;
}

/** The templates shipped with Briefing; a publication's own templates/web/ overrides them file by file. */
const BUNDLED = fileURLToPath(new URL('../../templates/web/', import.meta.url));

/**
 * Compiles templates/web/*.hbs once at start (a broken template fails at boot, not on a request).
 * HTML pages escape every `{{value}}`; the text email is compiled without escaping.
 */
export function loadPages(templatesDir: string, site: PageSite): Pages {
  const handlebars = Handlebars.create();
  const read = (file: string): { text: string; file: string } => {
    const own = path.join(templatesDir, 'web', file);
    const chosen = existsSync(own) ? own : path.join(BUNDLED, file);
    try {
      return { text: readFileSync(chosen, 'utf8'), file: chosen };
    } catch (error) {
      throw new BriefingError('server', 'template-missing', `cannot read template ${chosen}`, { cause: error });
    }
  };
  const compile = (file: string, noEscape: boolean): Handlebars.TemplateDelegate => {
    const source = read(file);
    try {
      const template = handlebars.compile(source.text, { noEscape, strict: false });
      // Handlebars compiles lazily; precompiling parses now, so a syntax error names its file at start.
      handlebars.precompile(source.text);
      return template;
    } catch (error) {
      throw new BriefingError('server', 'template-invalid', formatProblem(templateProblem(source.file, error)), { cause: error });
    }
  };
  handlebars.registerPartial('layout', compile('layout.hbs', false));
  const templates = new Map(PAGE_NAMES.map((name) => [name, compile(`${name}.hbs`, name.endsWith('.txt'))]));
  return {
    render(name, data) {
      const template = templates.get(name);
      if (template === undefined) throw new BriefingError('server', 'template-missing', `no template ${name}`);
      return template({ ...data, site });
    },
  };
}
