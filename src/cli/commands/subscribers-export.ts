import type { SubscriberStatus } from '../../store/store.js';
import { exportSubscriberCsv } from '../../subscribers/export-csv.js';
import type { CliContext } from '../context.js';

/** `briefing subscribers export [--status S]`: the list as CSV on stdout, streamed; `import` reads it back. */
export default async function subscribersExport(context: CliContext, options: { status?: SubscriberStatus }): Promise<number> {
  const store = await context.openStore();
  try {
    for await (const line of exportSubscriberCsv(store, options.status)) context.print(line);
    return 0;
  } finally {
    await store.close();
  }
}
