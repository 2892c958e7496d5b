/**
 * Seeds for the reliability tests: `npm test` runs a few small seeded cases, `npm run soak`
 * (SOAK=1) runs more and bigger ones. A failure prints its seed, and SEED=n repeats only that one.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from './mulberry32.mjs';

/** True under `npm run soak`. */
export const SOAK = process.env.SOAK === '1';

/** `normal` in `npm test`, `soak` under SOAK=1. */
export function scale<T>(normal: T, soak: T): T {
  return SOAK ? soak : normal;
}

/** The seeds to run: SEED=n alone when given, else `count` seeds from `first`. */
export function seeds(first: number, count: number): number[] {
  const only = process.env.SEED;
  if (only !== undefined && /^\d+$/.test(only)) return [Number(only)];
  return Array.from({ length: count }, (_, index) => first + index);
}

/** A seeded generator in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  return mulberry32(seed);
}

/**
 * A number in [0, 1) fixed by the seed and the parts: the same question gets the same answer
 * whatever order the events come in, so a concurrent run's faults can be repeated.
 */
export function hashedChance(seed: number, ...parts: ReadonlyArray<string | number>): number {
  const digest = createHash('sha256').update(`${seed}\0${parts.join('\0')}`).digest();
  return digest.readUInt32BE(0) / 4294967296;
}
