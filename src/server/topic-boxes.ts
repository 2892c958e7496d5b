import type { Topic } from '../config.js';
import type { TopicChoice } from '../store/store.js';
import { unknownTopicIds } from '../store/topic-choice.js';

/** One topic's checkbox on a form. */
export interface TopicBox {
  id: string;
  title: string;
  checked: boolean;
}

/** The configured topics as checkboxes, ticked as `chosen` says (null: every topic). */
export function topicBoxes(topics: readonly Topic[], chosen: readonly string[] | null): TopicBox[] {
  const ticked = chosen === null ? undefined : new Set(chosen);
  return topics.map((topic) => ({ id: topic.id, title: topic.title, checked: ticked === undefined || ticked.has(topic.id) }));
}

/** What a form's ticked topic boxes choose. */
export type FormTopics = { kind: 'chosen'; topics: TopicChoice } | { kind: 'none' } | { kind: 'unknown' };

/**
 * The choice of a form's topic boxes: every configured topic ticked is every topic (null), so topics
 * added to the publication later reach the reader too; `none` when no box is ticked (what that means
 * is the form's to say); `unknown` when a box names a topic the publication does not have, which only
 * a forged or stale form can send.
 */
export function formTopics(values: readonly string[], topics: readonly Topic[]): FormTopics {
  if (unknownTopicIds(values, topics.map((topic) => topic.id)).length > 0) return { kind: 'unknown' };
  const chosen = new Set(values);
  if (chosen.size === 0) return { kind: 'none' };
  return { kind: 'chosen', topics: chosen.size === topics.length ? null : [...chosen].sort() };
}
