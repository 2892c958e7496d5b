import type { Context } from 'hono';
import type { Subscriber } from '../../store/store.js';
import type { ServerDependencies } from '../dependencies.js';
import { readForm } from '../form-fields.js';
import { errorResponse, pageResponse, redirectResponse } from '../respond.js';
import { formTopics, topicBoxes } from '../topic-boxes.js';
import { linkRefused, readToken } from './link-token.js';

/** Why a preference form was sent back. */
const PROBLEMS = {
  none: 'Choose at least one topic, or unsubscribe from everything below.',
  unknown: 'The form named a topic this briefing does not have. Choose from the topics below.',
} as const;

/**
 * GET /preferences?token=… (the signed link in every briefing's footer and on the unsubscribe page)
 * shows one form, with no login: the configured topics as boxes, a box to pause the briefing, Save;
 * and a button to unsubscribe from everything. The POST carries the token in a hidden field; Save
 * answers 303 back to the page with a notice, so a reload posts nothing. An address that has left
 * (unsubscribed, bounced) sees that, and no form.
 */
export function preferencesHandlers(deps: ServerDependencies): { show(c: Context): Promise<Response>; save(c: Context): Promise<Response> } {
  const base = new URL(deps.config.siteUrl).pathname;
  const page = (status: number, subscriber: Subscriber, token: string, state: { topics: readonly string[] | null; paused: boolean; saved?: boolean; problem?: string }) =>
    pageResponse(deps.pages, status, 'preferences', {
      address: subscriber.address,
      token,
      topics: topicBoxes(deps.config.topics, state.topics),
      paused: state.paused,
      saved: state.saved === true,
      problem: state.problem,
    });
  const closed = (subscriber: Subscriber) => pageResponse(deps.pages, 200, 'preferences-closed', { bounced: subscriber.status === 'bounced' });
  const hasLeft = (subscriber: Subscriber) => subscriber.status === 'unsubscribed' || subscriber.status === 'bounced';

  return {
    async show(c) {
      const token = await readToken(c, deps, 'preferences', deps.clock.now());
      if (!token.ok) return linkRefused(deps, 'preferences', token.reason);
      const { subscriber } = token;
      if (hasLeft(subscriber)) return closed(subscriber);
      return page(200, subscriber, token.value, { topics: subscriber.topics, paused: subscriber.pausedAt !== null, saved: c.req.query('saved') === '1' });
    },
    async save(c) {
      const now = deps.clock.now();
      const token = await readToken(c, deps, 'preferences', now);
      if (!token.ok) return linkRefused(deps, 'preferences', token.reason);
      const { subscriber } = token;
      if (hasLeft(subscriber)) return closed(subscriber);
      const form = await readForm(c);
      const action = form?.text('action');
      if (form === undefined || (action !== 'save' && action !== 'unsubscribe')) return errorResponse(deps.pages, 400);
      if (action === 'unsubscribe') {
        await deps.store.setSubscriberStatus(subscriber.id, 'unsubscribed', now, 'preference page');
        deps.logger.info({ subscriber: subscriber.id }, 'server: unsubscribed from the preference page');
        return pageResponse(deps.pages, 200, 'unsubscribed', {});
      }
      const paused = form.text('paused') !== undefined;
      const chosen = formTopics(form.all('topics'), deps.config.topics);
      if (chosen.kind === 'none') return page(400, subscriber, token.value, { topics: [], paused, problem: PROBLEMS.none });
      if (chosen.kind === 'unknown') return page(400, subscriber, token.value, { topics: subscriber.topics, paused, problem: PROBLEMS.unknown });
      // False when the address left between reading the token and now.
      if (!(await deps.store.setSubscriberPreferences(subscriber.id, { topics: chosen.topics, paused }, now))) return closed(subscriber);
      deps.logger.info({ subscriber: subscriber.id }, 'server: preferences saved');
      return redirectResponse(`${base}preferences?token=${encodeURIComponent(token.value)}&saved=1`);
    },
  };
}
