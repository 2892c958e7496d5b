import type { Timer } from './scheduler.js';

/** setTimeout's longest delay; a later time is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** The production timer: setTimeout on the system clock, safe for times weeks away. */
export function systemTimer(): Timer {
  return {
    at(at, fire) {
      let handle: NodeJS.Timeout;
      const arm = (): void => {
        const delay = at.getTime() - Date.now();
        handle = delay > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(fire, Math.max(0, delay));
      };
      arm();
      return () => clearTimeout(handle);
    },
  };
}
