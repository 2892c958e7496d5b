import type { CliContext } from '../context.js';
import { BriefingError } from '../../errors.js';
import { createApp } from '../../server/app.js';
import { buildDependencies } from '../../server/build-dependencies.js';
import { listen } from '../../server/listen.js';
import { errorResponse } from '../../server/respond.js';
import { SERVER_SQLITE_OPTIONS } from '../../server/waiting-store.js';

/** Options of `briefing serve` as commander gives them. */
interface ServeOptions {
  port: string;
  host: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isInteger(port) || port > 65_535) {
    throw new BriefingError('cli', 'invalid-option', `--port must be a number from 0 to 65535, not "${value}"`);
  }
  return port;
}

/**
 * `briefing serve`: feeds, archive and web versions from output/, subscribe, confirm and one-click
 * unsubscribe. Runs until SIGTERM/SIGINT, then stops taking requests, finishes those in flight and
 * the confirmation emails being sent, and closes the transport and the store.
 */
export default async function serve(context: CliContext, options: ServeOptions): Promise<number> {
  const port = parsePort(options.port);
  const config = context.config();
  const store = await context.openStore(SERVER_SQLITE_OPTIONS);
  try {
    const transport = await context.createTransport('confirmations');
    try {
      const deps = buildDependencies({ config, store, transport, dkim: context.dkim(), clock: context.clock, logger: context.logger });
      const server = await listen(createApp(deps), {
        port,
        host: options.host,
        trustedProxies: config.env.trustedProxies,
        badRequest: () => errorResponse(deps.pages, 400),
      });
      context.logger.info({ url: server.url, output: config.paths.output, transport: transport.description }, 'server: listening');
      context.print(`listening on ${server.url}`);
      await new Promise<void>((resolve) => {
        if (context.stopSignal.aborted) resolve();
        context.stopSignal.addEventListener('abort', () => resolve(), { once: true });
      });
      context.logger.info('server: stopping');
      await server.close();
      await deps.tasks.close();
    } finally {
      await transport.close();
    }
  } finally {
    await store.close();
  }
  context.logger.info('server: stopped');
  return 0;
}
