import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { BriefingError, type Stage } from '../errors.js';

/**
 * A helper thread of a load (the parsing helper, the stats helper): its worker and the port it
 * answers on. The load stays synchronous: it shares work with the helper through counters in shared
 * memory, waits with `Atomics.wait` and reads the answers with `receiveMessageOnPort`.
 */
export interface HelperThread {
  worker: Worker;
  port: MessagePort;
}

/**
 * Slots of the Int32 counters a load shares with its helper for each piece of work: the next item to
 * take, and how many the helper holds (raised before it takes one, so the loading thread, waiting
 * for 0, never misses an item taken).
 */
export const NEXT = 0;
export const BUSY = 1;

/** Counters for one piece of work shared with a helper (see NEXT and BUSY). */
export function sharedCounters(): Int32Array<SharedArrayBuffer> {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * A helper thread started when first wanted and kept until closed. None (the loading thread does all
 * the work) when running the TypeScript sources, which have no compiled script (the CLI tests run
 * dist/, helpers and all), or when it cannot start; a helper that fails later only leaves its work to
 * the loading thread, and it never holds the process open.
 */
export interface LazyHelperThread {
  get(): HelperThread | undefined;
  /** Stops the helper; settled once its thread has ended. */
  close(): Promise<void>;
}

/** The helper of `script` (a file of dist/content/): `data` and its port reach it as its workerData. */
export function lazyHelperThread(script: string, data: Record<string, unknown>, youngGenerationMb: number): LazyHelperThread {
  const file = import.meta.url.endsWith('.ts') ? undefined : fileURLToPath(new URL(`./${script}`, import.meta.url));
  let helper: HelperThread | undefined;
  let unavailable = file === undefined;
  return {
    get() {
      if (helper !== undefined || unavailable) return helper;
      try {
        const { port1, port2 } = new MessageChannel();
        const worker = new Worker(file as string, { workerData: { ...data, port: port2 }, transferList: [port2], resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } });
        worker.on('error', () => undefined);
        worker.unref();
        helper = { worker, port: port1 };
      } catch {
        unavailable = true;
      }
      return helper;
    },
    async close() {
      if (helper === undefined) return;
      const { worker, port } = helper;
      helper = undefined;
      port.close();
      await worker.terminate();
    },
  };
}

/** Longest wait for a helper to finish the work it took (a record or a chunk of stats takes well under a second). */
const HELPER_TIMEOUT_MS = 30_000;

/**
 * Waits until the helper holds no work (BUSY is 0 again), then gives what it posted so far, in order.
 * A helper that holds work that long is an operating condition (a machine out of memory or swapping),
 * not a fault of the records: one line, no stack, under `code`.
 */
export function waitForHelper(helper: HelperThread, counters: Int32Array, problem: { stage: Stage; code: string; what: string }): unknown[] {
  const { stage, code, what } = problem;
  const deadline = Date.now() + HELPER_TIMEOUT_MS;
  for (let busy = Atomics.load(counters, BUSY); busy !== 0; busy = Atomics.load(counters, BUSY)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new BriefingError(stage, code, `the ${what} for ${HELPER_TIMEOUT_MS / 1000} s without an answer; run it again`);
    Atomics.wait(counters, BUSY, busy, left);
  }
  const posted: unknown[] = [];
  for (let received = receiveMessageOnPort(helper.port); received !== undefined; received = receiveMessageOnPort(helper.port)) posted.push(received.message);
  return posted;
}
