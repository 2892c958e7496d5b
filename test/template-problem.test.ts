import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../src/errors.js';
import { templateProblem } from '../src/template-problem.js';

/** The error Handlebars gives for a template, parsed and then rendered with no data. */
function errorOf(text: string): unknown {
  try {
    Handlebars.create().compile(text)({});
  } catch (error) {
    return error;
  }
  throw new Error(`no error for ${text}`);
}

describe('templateProblem', () => {
  it('tells what was expected near which text, not only "Parse error on line N:"', () => {
    const problem = templateProblem('templates/index.hbs', errorOf('<main>\n{{#each articles}} <p>{{title}</p>\n'));
    expect(problem).toMatchObject({ file: 'templates/index.hbs', line: 2 });
    expect(problem.message).toMatch(/^template syntax: Expecting .*got 'INVALID' near ".*<p>\{\{title\}<\/p>"$/);
  });

  it('places a lexical error (an unclosed comment) on its line, near its text', () => {
    expect(formatProblem(templateProblem('briefing.txt', errorOf('a\n{{!-- never closed')))).toBe('briefing.txt:2: template syntax: Unrecognized text. near "a{{!-{{!-- never closed"');
  });

  it('keeps a mismatched block with its line', () => {
    expect(formatProblem(templateProblem('web/layout.hbs', errorOf('<p>\n{{#each a}}\n{{/if}}')))).toBe("web/layout.hbs:2: template syntax: each doesn't match if - 2:3");
  });

  it('keeps the first line of an error a render finds, with no line', () => {
    expect(templateProblem('templates/article.hbs', errorOf('{{> missing}}'))).toEqual({ file: 'templates/article.hbs', message: 'The partial missing could not be found' });
  });
});
