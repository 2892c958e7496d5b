import type { Config } from '../config.js';
import type { Briefing, Recipient } from './briefing.js';
import { personaliseBriefing } from './personalise.js';

/** Where an edition's web version lives under output/. */
export function editionFolder(editionId: string): string {
  return `editions/${editionId}`;
}

/** The links of a copy that is no subscriber's (the web version, a preview, a test copy to an outsider): the pages themselves, no token. */
export function neutralLinks(siteUrl: string): Pick<Recipient, 'unsubscribeUrl' | 'preferencesUrl'> {
  return { unsubscribeUrl: `${siteUrl}unsubscribe`, preferencesUrl: `${siteUrl}preferences` };
}

/**
 * The public web version of a briefing ("view in browser"): `index.html` and `briefing.txt` under
 * output/editions/ID/, as paths relative to output/. No one's name or address: the briefing's own
 * web rendering, or for a record stored before there was one, the email with neutral values.
 * Written before any message links to it.
 */
export function webVersionFiles(config: Pick<Config, 'siteUrl'>, briefing: Briefing): Map<string, string> {
  const neutral: Recipient = { name: null, address: '', ...neutralLinks(config.siteUrl) };
  const web = briefing.web ?? personaliseBriefing(briefing, neutral);
  const folder = editionFolder(briefing.editionId);
  return new Map([
    [`${folder}/index.html`, web.html],
    [`${folder}/briefing.txt`, web.text],
  ]);
}
