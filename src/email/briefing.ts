/** The per-recipient values a briefing leaves as tokens, substituted after the single render. */
export interface Recipient {
  address: string;
  name: string | null;
  unsubscribeUrl: string;
  /** The signed link to the subscriber's preference page (topics, pause, leave). */
  preferencesUrl: string;
}

/** Which recipient field a token stands for. */
export type TokenField = 'name' | 'address' | 'unsubscribeUrl' | 'preferencesUrl';

/**
 * The rendered email of an edition, made once per edition. `html` and `text` contain the tokens of
 * `replacements`; each token carries a per-render nonce so article text can never forge one.
 */
export interface Briefing {
  editionId: string;
  /** One line, never a CR or LF. */
  subject: string;
  preheader: string;
  html: string;
  text: string;
  /** Web version of the edition ("view in browser"). */
  webUrl: string;
  replacements: ReadonlyArray<{ token: string; field: TokenField }>;
  /** The public web version: no tokens, no personal links, a subscribe link. Absent in records stored before it existed. */
  web?: { html: string; text: string };
}
