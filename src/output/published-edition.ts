import { z } from 'zod';
import { BriefingError } from '../errors.js';

/** One sent edition, as the record beside its web version keeps it: what its index entry and feed item show. */
export interface PublishedEdition {
  id: string;
  /** The edition's date in the publication zone, `YYYY-MM-DD`. */
  date: string;
  /** The scheduled time, ISO: the date of its feed item, so a rebuild writes the same bytes. */
  slot: string;
  subject: string;
  preheader: string;
}

const recordSchema = z.strictObject({ id: z.string().min(1), date: z.string(), slot: z.iso.datetime(), subject: z.string(), preheader: z.string() });

/** The record's JSON, keys in a fixed order. */
export function serializePublishedEdition(edition: PublishedEdition): string {
  const { id, date, slot, subject, preheader } = edition;
  return `${JSON.stringify({ id, date, slot, subject, preheader }, null, 2)}\n`;
}

/** Reads a record back; `file` names it in the one-line error of a record something else wrote. */
export function parsePublishedEdition(text: string, file: string): PublishedEdition {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BriefingError('output', 'invalid-edition-record', `${file}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BriefingError('output', 'invalid-edition-record', `${file}: ${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
