/** Size and refill speed of one client's bucket. */
export interface RateLimit {
  /** Requests a client may make in a burst. */
  burst: number;
  /** Tokens added back per second. */
  perSecond: number;
}

/** Whether a request may go on, and if not, after how many whole seconds it may. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Buckets above this count trigger a sweep of the full (idle) ones, so memory stays bounded. */
const SWEEP_AT = 10_000;

/**
 * A token bucket per key (the client's address), kept in memory: each request takes one token; tokens
 * come back at `perSecond` up to `burst`. Time comes from the caller, so tests need no waiting.
 */
export function createRateLimiter(limit: RateLimit): { take(key: string, now: Date): RateDecision } {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refill = (bucket: { tokens: number; at: number }, at: number): number =>
    Math.min(limit.burst, bucket.tokens + (Math.max(0, at - bucket.at) / 1000) * limit.perSecond);

  const sweep = (at: number): void => {
    for (const [key, bucket] of buckets) {
      if (refill(bucket, at) >= limit.burst) buckets.delete(key);
    }
  };

  return {
    take(key, now) {
      const at = now.getTime();
      const bucket = buckets.get(key);
      const tokens = bucket === undefined ? limit.burst : refill(bucket, at);
      if (tokens < 1) {
        buckets.set(key, { tokens, at });
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / limit.perSecond)) };
      }
      if (bucket === undefined && buckets.size >= SWEEP_AT) sweep(at);
      buckets.set(key, { tokens: tokens - 1, at });
      return { allowed: true };
    },
  };
}
