import type { Config } from '../config.js';

/** What the feeds need to know about the publication (a slice of the config, so tests can build one). */
export type FeedSite = Pick<Config, 'title' | 'description' | 'siteUrl' | 'language' | 'author' | 'topics' | 'feed'>;
