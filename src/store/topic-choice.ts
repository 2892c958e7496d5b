import { BriefingError } from '../errors.js';
import { MAX_CHOSEN_TOPICS, type TopicChoice } from './store.js';

const TOPIC_ID = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * A topic choice in its one canonical form: ids sorted and unique, or null for every topic. Refuses
 * an empty choice (that is unsubscribing, not a choice), a malformed id and more than
 * MAX_CHOSEN_TOPICS; whether the ids are configured topics is the caller's check (it knows the config).
 */
export function normaliseTopicChoice(topics: readonly string[] | null): TopicChoice {
  if (topics === null) return null;
  const unique = [...new Set(topics)].sort();
  if (unique.length === 0) throw new BriefingError('store', 'invalid-topics', 'a topic choice needs at least one topic (or every topic)');
  if (unique.length > MAX_CHOSEN_TOPICS) throw new BriefingError('store', 'invalid-topics', `a topic choice has at most ${MAX_CHOSEN_TOPICS} topics, not ${unique.length}`);
  const bad = unique.find((id) => !TOPIC_ID.test(id));
  if (bad !== undefined) throw new BriefingError('store', 'invalid-topics', `"${bad.slice(0, 64)}" is not a topic id (lower-case letters, digits and dashes)`);
  return unique;
}

/** The stored column: comma-separated canonical ids, NULL for every topic (equal choices are equal text, so DISTINCT and = work). */
export function encodeTopicChoice(topics: readonly string[] | null): string | null {
  const choice = normaliseTopicChoice(topics);
  return choice === null ? null : choice.join(',');
}

export function decodeTopicChoice(value: unknown): TopicChoice {
  return value === null || value === undefined ? null : String(value).split(',');
}

/**
 * The ids of `given` that are not among `known` (the configured topics), in the order given, each
 * once: what a form, `--topics` or a CSV cell named that the publication does not have.
 */
export function unknownTopicIds(given: readonly string[], known: readonly string[]): string[] {
  const configured = new Set(known);
  return [...new Set(given)].filter((id) => !configured.has(id));
}
