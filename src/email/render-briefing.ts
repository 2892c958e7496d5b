import type { Config } from '../config.js';
import { shortenOnWord } from '../content/plain-text.js';
import type { Edition } from '../edition/edition.js';
import { GENERAL_SECTION_ID } from '../edition/plan-edition.js';
import { BriefingError } from '../errors.js';
import type { Briefing, TokenField } from './briefing.js';
import { buildBriefingView, type BriefingView } from './briefing-view.js';
import type { BriefingTemplates } from './briefing-templates.js';
import { compileMjml, type MjmlRenderer } from './compile-mjml.js';
import { createEmailBlockRenderer, type EmailBlockRenderer } from './email-blocks.js';
import { TOKEN_FIELDS, randomNonce, recipientTokens } from './recipient-tokens.js';
import { fillLine, listTopics, writtenDate } from './subject-line.js';

/** The configuration a briefing is rendered with (a Config fits). */
export type BriefingConfig = Pick<Config, 'title' | 'siteUrl' | 'language' | 'direction' | 'timeZone' | 'postalAddress'> & {
  edition: Pick<Config['edition'], 'subject' | 'preheader' | 'maxHtmlBytes' | 'body'>;
  topics: ReadonlyArray<Pick<Config['topics'][number], 'id' | 'title' | 'short'>>;
};

/** What a render needs besides the edition: the config, the compiled templates, a nonce source. */
export interface RenderBriefingOptions {
  config: BriefingConfig;
  templates: BriefingTemplates;
  /** Source of the per-render token nonce; tests pin it, the default is random. */
  nonce?: () => string;
  /** An MJML renderer started ahead (see startMjmlRenderer); one is started at the compile otherwise. */
  renderer?: MjmlRenderer;
}

/** Length of the preheader's summary: about what a mail client shows after the subject. */
const SUMMARY_LENGTH = 150;
/** Bytes allowed for each personal value (an unsubscribe URL, an address) when checking the size budget. */
const PERSONAL_VALUE_BYTES = 256;
/** New nonces tried when one happens to occur in the content. */
const NONCE_ATTEMPTS = 8;

/** The web version of an edition, the briefing's "view in browser" link. */
export function editionWebUrl(siteUrl: string, editionId: string): string {
  return `${siteUrl}editions/${encodeURIComponent(editionId)}/`;
}

/**
 * Renders an edition once into its briefing: subject and preheader from the config's line
 * templates, HTML from `briefing.mjml` compiled by MJML (strict), text from `briefing.txt`.
 * Per-recipient values are left as tokens (see personalise.ts). The public web version is filled
 * from the same templates with `web` set: no personal links in it. Throws `email: too-large` when the
 * HTML, with room for the personal values, is over `edition.maxHtmlBytes` (Gmail clips the rest).
 */
export async function renderBriefing(edition: Edition, options: RenderBriefingOptions): Promise<Briefing> {
  const plan = planRender(edition, options, createEmailBlockRenderer());
  const [emailView, webView] = [plan.view(false), plan.view(true)];
  const [html = '', webHtml = ''] = await compileMjml([options.templates.mjml(emailView), options.templates.mjml(webView)], options.templates.sources, options.renderer);
  const web = { html: webHtml, text: tidyText(options.templates.text(webView)) };
  return { ...finishBriefing(plan, html, tidyText(options.templates.text(emailView)), options.config), web };
}

/**
 * The emails of several editions (an edition narrowed to each topic choice a send needs), rendered as
 * renderBriefing renders one, with one MJML compile for all of them. Each subject names its own
 * topics; none has a web version (the full edition's is the public one).
 */
export async function renderBriefingEmails(editions: readonly Edition[], options: RenderBriefingOptions): Promise<Briefing[]> {
  if (editions.length === 0) return [];
  const blocks = createEmailBlockRenderer();
  const plans = editions.map((edition) => planRender(edition, options, blocks));
  const views = plans.map((plan) => plan.view(false));
  const html = await compileMjml(views.map((view) => options.templates.mjml(view)), options.templates.sources, options.renderer);
  return plans.map((plan, index) => finishBriefing(plan, html[index] ?? '', tidyText(options.templates.text(views[index] as BriefingView)), options.config));
}

/** An edition's render up to its MJML: its lines, its tokens and its views. */
interface RenderPlan {
  editionId: string;
  subject: string;
  preheader: string;
  webUrl: string;
  tokens: Record<TokenField, string>;
  view(web: boolean): BriefingView;
}

function planRender(edition: Edition, options: RenderBriefingOptions, blocks: EmailBlockRenderer): RenderPlan {
  const { config } = options;
  const shortTitles = new Map(config.topics.map((topic) => [topic.id, topic.short ?? topic.title]));
  const topicNames = edition.sections.filter((section) => section.id !== GENERAL_SECTION_ID).map((section) => shortTitles.get(section.id) ?? section.title);
  const lead = edition.sections[0]?.items[0]?.blocks[0]?.text ?? '';
  const values = {
    title: config.title,
    date: writtenDate(edition.slot, config.timeZone, config.language),
    topics: topicNames.length > 0 ? listTopics(topicNames, config.language) : '',
    summary: shortenOnWord(lead, SUMMARY_LENGTH),
    edition: edition.id,
    stories: new Set(edition.sections.flatMap((section) => section.items.map((item) => item.articleId))).size,
  };
  const subject = fillLine(config.edition.subject, 'edition.subject', values);
  const preheader = fillLine(config.edition.preheader, 'edition.preheader', values);
  const webUrl = editionWebUrl(config.siteUrl, edition.id);

  // A nonce that occurs nowhere in the content, so every occurrence of a token is one the templates put there.
  const content = JSON.stringify([edition.sections, subject, preheader, config]);
  const makeNonce = options.nonce ?? randomNonce;
  let nonce = makeNonce();
  for (let attempt = 1; content.includes(nonce) && attempt < NONCE_ATTEMPTS; attempt += 1) {
    nonce = makeNonce();
  }
  if (content.includes(nonce)) {
    throw new BriefingError('email', 'token-collision', `edition ${edition.id}: no token nonce absent from the content after ${NONCE_ATTEMPTS} tries`);
  }
  const tokens = recipientTokens(nonce);
  const view = (web: boolean): BriefingView =>
    buildBriefingView(edition, { publication: config, subject, preheader, dateText: values.date, webUrl, web, body: config.edition.body, tokens, blocks });
  return { editionId: edition.id, subject, preheader, webUrl, tokens, view };
}

/** The briefing of a compiled email: which tokens it uses, checked against the HTML budget. */
function finishBriefing(plan: RenderPlan, html: string, text: string, config: BriefingConfig): Briefing {
  const { tokens } = plan;
  const replacements = TOKEN_FIELDS.filter((field) => html.includes(tokens[field]) || text.includes(tokens[field])).map((field) => ({
    token: tokens[field],
    field,
  }));
  const personalValues = replacements.reduce((sum, { token }) => sum + html.split(token).length - 1, 0);
  const bytes = Buffer.byteLength(html) + personalValues * PERSONAL_VALUE_BYTES;
  if (bytes > config.edition.maxHtmlBytes) {
    throw new BriefingError(
      'email',
      'too-large',
      `edition ${plan.editionId}: the briefing's HTML is ${kilobytes(bytes)} (${bytes} bytes with personal values), over the budget of ${kilobytes(config.edition.maxHtmlBytes)} (edition.maxHtmlBytes = ${config.edition.maxHtmlBytes}); Gmail clips longer messages and hides the unsubscribe link. Shorten the edition or the templates.`,
    );
  }
  return { editionId: plan.editionId, subject: plan.subject, preheader: plan.preheader, html, text, webUrl: plan.webUrl, replacements };
}

/** Plain text without trailing spaces or runs of blank lines that templates leave behind. */
function tidyText(text: string): string {
  return `${text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

function kilobytes(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} KB`;
}
