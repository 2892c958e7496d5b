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

/** One regular expression for a group of terms; longer terms first so a phrase counts once. */
function termsPattern(terms: readonly string[], flags: string): RegExp | undefined {
  if (terms.length === 0) {
    return undefined;
  }
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map((term) => term.replace(SPECIAL, '\\$&').replace(/\s+/g, '\\s+'));
  return new RegExp(`(?:${alternatives.join('|')})`, flags);
}

/** The character (a whole code point) just before `index`, or '' at the start. */
function charBefore(text: string, index: number): string {
  const code = text.charCodeAt(index - 1);
  return code >= 0xdc00 && code <= 0xdfff ? text.slice(index - 2, index) : text.slice(index - 1, index);
}

/**
 * Counts matches that start a word (and, for `wholeWord`, end one). The word test runs on the few
 * candidate matches instead of as a look-behind at every position: much faster on long bodies.
 */
function countWordMatches(pattern: RegExp, text: string, wholeWord: boolean): number {
  let count = 0;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const end = match.index + match[0].length;
    const startsWord = !WORD_CHARACTER.test(charBefore(text, match.index));
    const endsWord = !wholeWord || !WORD_CHARACTER.test(String.fromCodePoint(text.codePointAt(end) ?? 32));
    if (startsWord && endsWord) {
      count += 1;
    } else {
      pattern.lastIndex = match.index + 1;
    }
  }
  return count;
}

interface CompiledTopic {
  id: string;
  minMatches: number;
  /** Lower-case terms, matched in the lower-cased text at the start of a word. */
  words: RegExp | undefined;
  /** Acronyms, matched case-sensitively as whole words. */
  acronyms: RegExp | undefined;
}

/**
 * Compiles the topics' `match` terms. A term matches case-insensitively at the start of a word, so
 * `negotiat` finds "negotiations"; a term in capitals is an acronym and matches case-sensitively as a
 * whole word, so `POW` finds "POW" but never "power" or "Pow".
 */
export function createTopicMatcher(topics: readonly Topic[]): TopicMatcher {
  const compiled: CompiledTopic[] = topics.map((topic) => {
    const terms = topic.match.map((term) => term.trim()).filter((term) => term !== '');
    const acronyms = terms.filter((term) => ACRONYM.test(term) && /\p{L}/u.test(term));
    const words = terms.filter((term) => !acronyms.includes(term)).map((term) => term.toLowerCase());
    return { id: topic.id, minMatches: topic.minMatches, words: termsPattern(words, 'gu'), acronyms: termsPattern(acronyms, 'gu') };
  });

  const assign = (text: string): string[] => {
    const lower = text.toLowerCase();
    const scored = compiled
      .map((topic, order) => {
        const hits =
          (topic.words ? countWordMatches(topic.words, lower, false) : 0) + (topic.acronyms ? countWordMatches(topic.acronyms, text, true) : 0);
        return { id: topic.id, hits, order, qualifies: hits > 0 && hits >= topic.minMatches };
      })
      .filter((topic) => topic.qualifies);
    const best = Math.max(0, ...scored.map((topic) => topic.hits));
    return scored
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
