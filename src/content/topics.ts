import type { Topic } from '../config.js';

/** The topic rules compiled once: scores a text against every topic. */
export interface TopicMatcher {
  /** Topic ids for one text (a section): the best-scoring topic plus any within half its score. */
  assign(text: string): string[];
}

/** A term in capitals (NABU, POW) is an acronym: it matches only itself, as a whole word. */
const ACRONYM = /^[\p{Lu}\p{N}]+$/u;
const SPECIAL = /[.*+?^${}()|[\]\\]/g;
const WORD_CHARACTER = /[\p{L}\p{N}]/u;

/** Terms of one kind in one regular expression, and which topics each term counts for. */
interface TermSet {
  pattern: RegExp;
  topicsOf: Map<string, number[]>;
  wholeWord: boolean;
}

/** Normal form of a term or of the text it matched: single spaces. */
const termKey = (text: string): string => text.replace(/\s+/g, ' ');

/** One regular expression for all terms of a kind; longer terms first so a phrase counts once. */
function compileTerms(entries: ReadonlyArray<{ term: string; topic: number }>, wholeWord: boolean): TermSet | undefined {
  if (entries.length === 0) {
    return undefined;
  }
  const topicsOf = new Map<string, number[]>();
  for (const { term, topic } of entries) {
    const key = termKey(term);
    const topics = topicsOf.get(key) ?? [];
    if (!topics.includes(topic)) topics.push(topic);
    topicsOf.set(key, topics);
  }
  const alternatives = [...topicsOf.keys()]
    .sort((a, b) => b.length - a.length)
    .map((term) => term.replace(SPECIAL, '\\$&').replace(/ /g, '\\s+'));
  return { pattern: new RegExp(alternatives.join('|'), 'gu'), topicsOf, wholeWord };
}

/** The character (a whole code point) just before `index`, or '' at the start. */
function charBefore(text: string, index: number): string {
  const code = text.charCodeAt(index - 1);
  return code >= 0xdc00 && code <= 0xdfff ? text.slice(index - 2, index) : text.slice(index - 1, index);
}

/**
 * Adds one hit per match that starts a word (and, for acronyms, ends one) to its topics. The word
 * test runs on the few candidate matches instead of as a look-behind at every position.
 */
function countHits(terms: TermSet, text: string, hits: number[]): void {
  const { pattern } = terms;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const end = match.index + match[0].length;
    const startsWord = !WORD_CHARACTER.test(charBefore(text, match.index));
    const endsWord = !terms.wholeWord || !WORD_CHARACTER.test(String.fromCodePoint(text.codePointAt(end) ?? 32));
    if (startsWord && endsWord) {
      for (const topic of terms.topicsOf.get(termKey(match[0])) ?? []) {
        hits[topic] = (hits[topic] ?? 0) + 1;
      }
    } else {
      pattern.lastIndex = match.index + 1;
    }
  }
}

/**
 * Compiles the topics' `match` terms. A term matches case-insensitively at the start of a word, so
 * `negotiat` finds "negotiations"; a term in capitals is an acronym and matches case-sensitively as a
 * whole word, so `POW` finds "POW" but never "power" or "Pow".
 */
export function createTopicMatcher(topics: readonly Topic[]): TopicMatcher {
  const words: Array<{ term: string; topic: number }> = [];
  const acronyms: Array<{ term: string; topic: number }> = [];
  topics.forEach((topic, index) => {
    for (const raw of topic.match) {
      const term = raw.trim();
      if (ACRONYM.test(term) && /\p{L}/u.test(term)) {
        acronyms.push({ term, topic: index });
      } else if (term !== '') {
        words.push({ term: term.toLowerCase(), topic: index });
      }
    }
  });
  const wordTerms = compileTerms(words, false);
  const acronymTerms = compileTerms(acronyms, true);

  const assign = (text: string): string[] => {
    const hits = new Array<number>(topics.length).fill(0);
    if (wordTerms) countHits(wordTerms, text.toLowerCase(), hits);
    if (acronymTerms) countHits(acronymTerms, text, hits);
    const qualified = topics
      .map((topic, order) => ({ id: topic.id, order, hits: hits[order] ?? 0 }))
      .filter((topic, order) => topic.hits > 0 && topic.hits >= (topics[order]?.minMatches ?? 1));
    const best = Math.max(0, ...qualified.map((topic) => topic.hits));
    return qualified
      .filter((topic) => topic.hits * 2 >= best)
      .sort((a, b) => b.hits - a.hits || a.order - b.order)
      .map((topic) => topic.id);
  };

  return { assign };
}

/** Topic ids for a text under the given rules (compiles them each call; reuse a matcher for many texts). */
export function assignTopics(text: string, topics: readonly Topic[]): string[] {
  return createTopicMatcher(topics).assign(text);
}
