import { z } from 'zod';
import type { Briefing } from '../email/briefing.js';
import { TOKEN_FIELDS } from '../email/recipient-tokens.js';
import { BriefingError } from '../errors.js';
import type { EditionMemory, EditionOutline, EditionSection } from '../edition/edition.js';
import type { EditionRecord } from '../store/store.js';

/**
 * What an edition record keeps in its opaque `memory` column: the planner's memory for the next
 * edition, the briefing as rendered, so a resumed or repeated send sends identical content, and the
 * edition's sections, from which a send renders the briefing of each topic choice.
 */
export interface StoredEdition {
  version: 1;
  /** Start of the window (the record's `cutoff` is its end), ISO. */
  since: string;
  memory: EditionMemory;
  outline: EditionOutline;
  /** Null for a skipped edition. */
  briefing: Briefing | null;
  /** The planned sections; absent in records stored before topic choices (they send the full briefing to everyone). */
  sections?: EditionSection[];
}

const isoDate = z.iso.datetime({ offset: true }).transform((text) => new Date(text));
const optionalText = z.string().optional();
const placed = z.string().nullable().optional();

const sectionSchema = z.object({
  id: z.string(),
  title: z.string(),
  items: z.array(
    z.object({
      articleId: z.string(),
      title: z.string(),
      url: z.string(),
      source: z.string(),
      published: isoDate,
      updated: isoDate.optional(),
      status: z.enum(['new', 'updated']),
      toldBefore: z.boolean(),
      heading: z.string().nullable(),
      blocks: z.array(z.object({ markdown: z.string(), html: z.string(), text: z.string() })),
      images: z.array(z.object({ url: optionalText, alt: z.string(), caption: optionalText, credit: optionalText, section: placed })),
      videos: z.array(
        z.object({ title: z.string(), intro: optionalText, age: optionalText, duration: optionalText, description: optionalText, url: optionalText, section: placed }),
      ),
    }),
  ),
});

const storedEditionSchema = z.object({
  version: z.literal(1),
  since: z.iso.datetime(),
  memory: z.object({ told: z.record(z.string(), z.string()), sent: z.record(z.string(), z.string()) }),
  outline: z.object({
    sections: z.array(z.object({ id: z.string(), title: z.string(), stories: z.number(), paragraphs: z.number() })),
  }),
  briefing: z
    .object({
      editionId: z.string(),
      subject: z.string(),
      preheader: z.string(),
      html: z.string(),
      text: z.string(),
      webUrl: z.string(),
      replacements: z.array(z.object({ token: z.string(), field: z.enum(TOKEN_FIELDS) })),
      web: z.object({ html: z.string(), text: z.string() }).optional(),
    })
    .nullable(),
  sections: z.array(sectionSchema).optional(),
});

/** Reads a record's `memory` column back; a record written by something else is a clear error. */
export function readStoredEdition(editionId: string, value: unknown): StoredEdition {
  const parsed = storedEditionSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BriefingError(
      'edition',
      'unreadable-record',
      `edition ${editionId}: the stored record cannot be read (${issue?.path.join('.') || 'memory'}: ${issue?.message ?? 'invalid'})`,
    );
  }
  return parsed.data;
}

/**
 * The record of a slot skipped without being planned (missed, or superseded by a newer fire): shaped
 * like the records an opened edition writes for its own skips, so every reader understands it.
 */
export function skippedSlotRecord(target: { id: string; slot: Date }, note: string): Omit<EditionRecord, 'createdAt' | 'updatedAt'> {
  const { id, slot } = target;
  const memory: StoredEdition = { version: 1, since: slot.toISOString(), memory: { told: {}, sent: {} }, outline: { sections: [] }, briefing: null };
  return { id, slot, status: 'skipped', cutoff: slot, subject: '', note, memory };
}
