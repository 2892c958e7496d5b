import type { SendSummary } from '../delivery/send-edition.js';
import type { Transport } from '../delivery/transport.js';
import { BriefingError } from '../errors.js';
import { formatZoneTime } from '../schedule/zone-time.js';
import type { EditionRecord, EditionStatus, Store } from '../store/store.js';
import { editionSentAfter, type OpenedEdition } from './open-edition.js';
import { openSlotEdition, resolveTarget } from './open-slot-edition.js';
import type { RunContext } from './run-context.js';

/** What `briefing send` (without `--to` or `--dry-run`) is asked to do. */
export interface SendRequest {
  /** `--date`: a day or slot id; default: the due edition. */
  date?: string;
  /** Only continue an edition already enqueued. */
  resume: boolean;
  /** Forget a skipped or unsent edition first, so it is planned again. */
  replan: boolean;
  /** Send an edition whose slot is still to come. */
  force: boolean;
  /** A progress bar rather than log lines (on a terminal, when not printing JSON). */
  interactive: boolean;
}

/** What a send tells its caller as it goes, before the summary. */
export interface SendEvents {
  /** `--replan` forgot the edition's record, which had this status. */
  replanned?(id: string, status: EditionStatus): void;
  /** The first message is about to go through this transport. */
  started?(opened: OpenedEdition & { kind: 'ready' }, transport: Transport): void;
}

/** A send's outcome: the edition was skipped (nothing new), or delivered as far as it went. */
export type SendReport =
  | { kind: 'skipped'; opened: OpenedEdition & { kind: 'skipped' } }
  | { kind: 'delivered'; opened: OpenedEdition & { kind: 'ready' }; summary: SendSummary; transport: string };


/**
 * `briefing send`: opens the slot's edition (resolved once, its record read once), recording it,
 * enqueues one delivery per active subscriber and delivers them. A slot still to come is refused
 * without `force` (recording it now would skip it for good); `resume` only continues an edition
 * already enqueued; `replan` forgets an edition none of whose deliveries went out first.
 */
export async function sendToSubscribers(context: RunContext, request: SendRequest, events: SendEvents = {}): Promise<SendReport> {
  const config = context.config();
  const now = context.clock.now();
  const target = resolveTarget(config, now, request.date);
  if (target.slot.getTime() > now.getTime() && !request.force) {
    throw new BriefingError(
      'delivery',
      'future-edition',
      `edition ${target.id} is due at ${formatZoneTime(target.slot, config.timeZone)}, still to come: sending it now would record it before its articles exist; wait for its slot, or add --force`,
    );
  }
  const store = await context.openStore();
  try {
    let stored = await store.getEdition(target.id);
    if (request.replan && stored !== undefined) {
      events.replanned?.(target.id, await replan(store, stored));
      stored = undefined;
    }
    if (stored === undefined) {
      // Planned now, an earlier edition would start from the one before it and tell again what the later one told.
      const later = await editionSentAfter(store, target.slot);
      if (later !== undefined) {
        throw new BriefingError('edition', 'earlier-than-sent', `edition ${target.id} cannot be planned: edition ${later.id}, which went out after it, already told its stories; send a date after ${later.id}`);
      }
    }
    if (request.resume) {
      const counts = await store.deliveryCounts(target.id);
      if (stored === undefined || counts.queued + counts.sending + counts.sent + counts.failed === 0) {
        throw new BriefingError('delivery', 'nothing-to-resume', `edition ${target.id} has not been enqueued yet: run \`briefing send --date ${target.id}\` without --resume`);
      }
    }
    // An edition still to plan is rendered: its renderer (started as the command began) loads MJML on
    // another core while the content loads and the edition is planned. A stored one is not: the
    // renderer is stopped at once, so it takes no time from the send.
    const renderer = stored === undefined ? context.mjml.take() : undefined;
    if (renderer === undefined) context.mjml.release();
    // Loaded only now: a send that stops before (a refused date, nothing to resume) does not load them.
    const [{ publishEdition }, { deliverEdition }, { briefingsForOpened }] = await Promise.all([
      import('./publish-edition.js'),
      import('../delivery/deliver-edition.js'),
      import('./topic-briefings.js'),
    ]);
    let opened: OpenedEdition;
    try {
      opened = await openSlotEdition({ config, clock: context.clock, store, ...(renderer === undefined ? {} : { renderer }) }, { target, stored, persist: true });
    } finally {
      renderer?.close();
    }
    if (opened.kind === 'skipped') return { kind: 'skipped', opened };
    let transportDescription = '';
    const summary = await deliverEdition(
      {
        config,
        store,
        createTransport: (editionId) => context.createTransport(editionId),
        dkim: context.dkim(),
        clock: context.clock,
        logger: context.logger,
        interactive: request.interactive,
        stopSignal: context.stopSignal,
        onStart: (transport) => {
          transportDescription = transport.description;
          events.started?.(opened, transport);
        },
      },
      {
        editionId: opened.id,
        briefingsFor: briefingsForOpened({ config, logger: context.logger }, opened),
        resume: request.resume,
        beforeSending: () => publishEdition(config, opened),
      },
    );
    return { kind: 'delivered', opened, summary, transport: transportDescription };
  } finally {
    await store.close();
  }
}

/**
 * `--replan`: forgets the edition (a skipped edition, or one planned or enqueued of which nothing
 * went out) so this send plans it from the content as it is now. Refused once any delivery of it
 * is sent or being sent, and once a later edition went out (it already covered these articles).
 * Returns the status the forgotten record had.
 */
async function replan(store: Store, existing: EditionRecord): Promise<EditionStatus> {
  const { id } = existing;
  const latest = await editionSentAfter(store, existing.slot);
  if (latest !== undefined) {
    throw new BriefingError('delivery', 'replan-refused', `edition ${id} cannot be planned again: edition ${latest.id}, sent after it, already covers its articles`);
  }
  if (existing.status === 'sent') {
    throw new BriefingError('delivery', 'replan-refused', `edition ${id} cannot be planned again: its send has finished (\`briefing status --date ${id}\` lists how each delivery ended)`);
  }
  if (!(await store.reopenEdition(id))) {
    throw new BriefingError(
      'delivery',
      'replan-refused',
      `edition ${id} cannot be planned again: some of its deliveries are sent or being sent (\`briefing send --date ${id} --resume\` continues it)`,
    );
  }
  return existing.status;
}
