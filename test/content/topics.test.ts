import { describe, expect, it } from 'vitest';
import type { Topic } from '../../src/config.js';
import { assignTopics, createTopicMatcher } from '../../src/content/topics.js';

const topics: Topic[] = [
  { id: 'talks', title: 'Peace talks', match: ['peace talks', 'talks', 'negotiat', 'prisoners of war', 'POW', 'Istanbul'], minMatches: 1 },
  { id: 'protests', title: 'Protests', match: ['protest', 'anti-corruption', 'corruption', 'NABU'], minMatches: 1 },
  { id: 'war', title: 'Front line', match: ['front line', 'drone'], minMatches: 2 },
];

describe('assignTopics', () => {
  it.each([
    ['a term matches at the start of a word', 'The negotiations stalled.', ['talks']],
    ['matching ignores case', 'PROTESTERS GATHERED IN KYIV', ['protests']],
    ['a term inside a word does not match', 'A renegotiation of the lease.', []],
    ['a phrase matches across any white space', 'Prisoners\n of   war were freed.', ['talks']],
    ['an acronym matches as a whole word', 'A POW exchange took place.', ['talks']],
    ['an acronym does not match a longer word', 'The power plant was hit.', []],
    ['an acronym matches case-sensitively', 'Pow! went the cartoon, and pow again.', []],
    ['an acronym does not match a plural', 'The POWs came home.', []],
    ['an acronym next to punctuation matches', 'Officials (NABU) spoke.', ['protests']],
    ['hyphenated terms match', 'The anti-corruption agencies', ['protests']],
    ['a word after a hyphen starts a word', 'The pro-talks camp', ['talks']],
    ['Cyrillic letters are part of a word', 'Переговорыtalks in Cyrillic', []],
    ['minMatches holds a topic back', 'One drone flew.', []],
    ['minMatches is met', 'A drone, then another drone, near the front line.', ['war']],
    ['nothing matches an empty text', '', []],
  ])('%s', (_name, text, expected) => {
    expect(assignTopics(text, topics)).toEqual(expected);
  });

  it.each([
    ['the best topic alone when others score under half', 'Talks in Istanbul: negotiators met for talks. One protest.', ['talks']],
    ['a second topic within half of the best, best first', 'Talks in Istanbul and more talks. Protests over corruption.', ['talks', 'protests']],
    ['a tie keeps the configured order', 'A protest in Istanbul.', ['talks', 'protests']],
    ['a phrase counts once, not once per contained term', 'Peace talks. Protest. Protest.', ['protests', 'talks']],
  ])('picks %s', (_name, text, expected) => {
    expect(assignTopics(text, topics)).toEqual(expected);
  });

  it('compiles once and scores many texts the same way', () => {
    const matcher = createTopicMatcher(topics);
    expect(matcher.assign('talks')).toEqual(['talks']);
    expect(matcher.assign('NABU')).toEqual(['protests']);
    expect(matcher.assign('talks')).toEqual(['talks']);
  });

  it('treats regular-expression characters in terms literally', () => {
    const odd: Topic[] = [{ id: 'odd', title: 'Odd', match: ['c++', 'a.b'], minMatches: 1 }];
    expect(assignTopics('I write c++ daily', odd)).toEqual(['odd']);
    expect(assignTopics('axb', odd)).toEqual([]);
  });
});
