import { schedule, type Logger as CronLogger } from 'node-cron';
import type { Logger } from 'pino';
import type { FireSource } from './scheduler.js';

/**
 * The production fire source: a node-cron task in the publication zone. Each fire reports the
 * scheduled time node-cron planned (its context date), not the moment the callback ran.
 */
export function cronFires(cron: string, zone: string, logger: Logger): FireSource {
  const cronLogger: CronLogger = {
    info: (message) => logger.info({ event: 'node-cron' }, message),
    warn: (message) => logger.warn({ event: 'node-cron' }, message),
    error: (message, error) => logger.error({ event: 'node-cron', err: error ?? message }, String(message)),
    debug: (message, error) => logger.debug({ event: 'node-cron', err: error }, String(message)),
  };
  return {
    start(onFire) {
      const task = schedule(cron, (context) => onFire(context.date), { timezone: zone, logger: cronLogger });
      task.on('execution:missed', (context) => {
        logger.warn({ event: 'cron-missed', slot: context.date.toISOString() }, 'node-cron missed a beat (busy event loop); the backstop timer covers it');
      });
      return () => {
        void task.destroy();
      };
    },
  };
}
