import type { Context } from 'hono';
import { normaliseName, parseAddress } from '../../address.js';
import { TransportError } from '../../delivery/transport.js';
import { refusesSignUp, type Subscriber, type TopicChoice } from '../../store/store.js';
import { MAX_WAITING_TASKS } from '../background-tasks.js';
import type { ServerDependencies } from '../dependencies.js';
import { readForm } from '../form-fields.js';
import { createRateLimiter } from '../rate-limiter.js';
import { errorResponse, pageResponse, redirectResponse } from '../respond.js';
import { formTopics, topicBoxes } from '../topic-boxes.js';

/** What a valid subscribe form asks for. */
interface SubscribeRequest {
  address: string;
  /** The address's key for the per-address limit (case-insensitive). */
  key: string;
  name: string | null;
  topics: TopicChoice;
}

/**
 * The inbox an address reaches, for the confirmation limit: its `+tag` left out, so `reader+1@` …
 * `reader+99@` (which most providers deliver to `reader@`) share one allowance.
 */
function inboxKey(key: string): string {
  const at = key.lastIndexOf('@');
  const plus = key.indexOf('+');
  return plus > 0 && plus < at ? `${key.slice(0, plus)}${key.slice(at)}` : key;
}

/**
 * POST /subscribe (form: `address`, optional `name`, the ticked `topics` boxes) and the page it leads
 * to. A new address is stored `pending` with its topics (every topic when every box or none is
 * ticked; a box naming no configured topic is refused); a pending or unsubscribed one stays as it is
 * until confirmed; an active one, a bounced one and one unsubscribed by a complaint are left alone and
 * mailed nothing (see refusesSignUp). The answer is the same redirect for every valid address, given once the store
 * could take a write and before any work that depends on the address: looking it up, storing it
 * and mailing the confirmation run afterwards, so neither the answer nor its timing tells whether
 * the address was on the list. The redirect (303) lands on GET /subscribe/sent, which a reload
 * shows again instead of posting the form twice.
 */
export function subscribeHandlers(deps: ServerDependencies): { subscribe(c: Context): Promise<Response>; sent(c: Context): Promise<Response> } {
  const perAddress = createRateLimiter(deps.limits.perAddress);
  const sentLocation = `${new URL(deps.config.siteUrl).pathname}subscribe/sent`;

  /**
   * Mails a confirmation link to an address that may have one: not active, not refusing mail, and
   * within its inbox's allowance. A message the mail server certainly did not take (it was down, or
   * answered 4xx) is tried again after each of `confirmRetryMs`, with a new link and without taking
   * from the allowance again; not if the subscriber's status changed meanwhile (confirmed, removed,
   * unsubscribed), nor after a failure that may have come once the server had it.
   */
  const confirm = async (subscriber: Subscriber | undefined, inbox: string, attempt: number, waiting?: { status: string; changedAt: number | undefined }): Promise<void> => {
    if (subscriber === undefined || subscriber.status === 'active' || refusesSignUp(subscriber)) return;
    const now = deps.clock.now();
    const state = { status: subscriber.status, changedAt: subscriber.statusChangedAt?.getTime() };
    if (waiting === undefined) {
      if (!perAddress.take(inbox, now).allowed) return;
    } else if (waiting.status !== state.status || waiting.changedAt !== state.changedAt) {
      // A retry is the same confirmation: it takes nothing from the allowance, and goes only to an address still as it was.
      return;
    }
    // No name: whoever filled in the form chose it, and nobody at the address has confirmed it yet.
    const recipient = { subscriberId: subscriber.id, address: subscriber.address, name: null };
    const confirmUrl = `${deps.config.siteUrl}confirm?token=${encodeURIComponent(deps.tokens.confirmToken(subscriber, now))}`;
    try {
      await deps.sendConfirmation(recipient, confirmUrl);
    } catch (error) {
      const delay = deps.limits.confirmRetryMs[attempt];
      if (!(error instanceof TransportError && error.temporary && error.notTaken) || delay === undefined) throw error;
      const retry = async (): Promise<void> => confirm(await deps.store.findSubscriber(subscriber.address), inbox, attempt + 1, state);
      if (!deps.tasks.later('confirmation', delay, retry)) {
        throw new Error(`${error.message}; not tried again: ${MAX_WAITING_TASKS} tasks already wait, or the server is stopping`, { cause: error });
      }
      deps.logger.warn({ err: error, retryInSeconds: Math.round(delay / 1000) }, 'server: confirmation email not sent now, trying again later');
    }
  };

  const register = async (request: SubscribeRequest, now: Date): Promise<void> => {
    let subscriber = await deps.store.findSubscriber(request.address);
    if (subscriber === undefined) {
      await deps.store.addSubscribers([{ address: request.address, name: request.name, status: 'pending', source: 'web', topics: request.topics }], now);
      subscriber = await deps.store.findSubscriber(request.address);
    }
    await confirm(subscriber, inboxKey(request.key), 0);
  };

  return {
    async subscribe(c) {
      const form = await readForm(c);
      if (form === undefined) return errorResponse(deps.pages, 400);
      const rawAddress = form.text('address') ?? '';
      const rawName = form.text('name');
      const ticked = form.all('topics');
      // The form again, ticked as sent (none ticked is every topic, as a form without boxes is).
      const refuse = (heading: string, problem: string, boxes: readonly string[] | null = ticked.length === 0 ? null : ticked): Response =>
        pageResponse(deps.pages, 400, 'subscribe-invalid', { heading, problem, address: rawAddress, name: rawName ?? '', topics: topicBoxes(deps.config.topics, boxes) });
      const topics = formTopics(ticked, deps.config.topics);
      if (topics.kind === 'unknown') return refuse('Choose the topics again', 'The form named a topic this briefing does not have: choose from the topics below.', null);
      const parsed = parseAddress(rawAddress);
      if (!parsed.ok) return refuse('That address does not look right', `The email address ${parsed.problem}.`);
      const name = normaliseName(rawName);
      if (!name.ok) return refuse('That name cannot be used', `The name ${name.problem}.`);
      // The same for every address: a busy or missing store is answered 503 now, not lost later.
      await deps.store.checkWritable();
      const now = deps.clock.now();
      const request = { address: parsed.address, key: parsed.key, name: name.name, topics: topics.kind === 'chosen' ? topics.topics : null };
      deps.tasks.run('subscription', () => register(request, now));
      return redirectResponse(sentLocation);
    },
    async sent() {
      return pageResponse(deps.pages, 200, 'subscribe-received', { confirmHours: deps.limits.confirmHours });
    },
  };
}
