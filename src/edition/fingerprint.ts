import { createHash } from 'node:crypto';

/**
 * A short hash of text that ignores case, white space and punctuation, so the same paragraph in two
 * versions of a story (curly or straight quotes, a reflowed line) is recognised as told.
 */
export function fingerprintText(text: string): string {
  const normalised = text
    .normalize('NFKC')
    .toLowerCase()
    // Everything but letters, digits and symbols goes: "U.S." and "US", "end—start" and "end — start" agree.
    .replace(/[\p{P}\p{Z}\p{C}\s]+/gu, '');
  return createHash('sha256').update(normalised).digest('hex').slice(0, 20);
}
