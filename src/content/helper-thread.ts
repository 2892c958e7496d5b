import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { BriefingError } from '../errors.js';

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
 * A helper's script in the compiled program (dist/content/), or undefined when running the
 * TypeScript sources (tests of the sources then do the work on one thread; the CLI tests run dist/).
 */
export function helperScript(name: string): string | undefined {
  return import.meta.url.endsWith('.ts') ? undefined : fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/**
 * Starts a helper thread: `data` and the port reach it as its workerData. Undefined when it cannot
 * start; a helper that fails later only leaves its work to the loading thread, and it never holds
 * the process open.
 */
export function startHelperThread(script: string, data: Record<string, unknown>, youngGenerationMb: number): HelperThread | undefined {
  try {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(script, { workerData: { ...data, port: port2 }, transferList: [port2], resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } });
    worker.on('error', () => undefined);
    worker.unref();
    return { worker, port: port1 };
  } catch {
    return undefined;
  }
}

export function stopHelperThread(helper: HelperThread): void {
  helper.port.close();
  void helper.worker.terminate();
}

/** Longest wait for a helper to finish the work it took (a record or a chunk of stats takes well under a second). */
const HELPER_TIMEOUT_MS = 30_000;

/**
 * Waits until the helper holds no work (the `slot` of `counters` it raises while it holds some is 0
 * again). A helper that holds work that long is an operating condition (a machine out of memory or
 * swapping), not a fault of the records: one line, no stack, under `code`.
 */
export function waitForHelper(counters: Int32Array, slot: number, code: string, what: string): void {
  const deadline = Date.now() + HELPER_TIMEOUT_MS;
  for (let busy = Atomics.load(counters, slot); busy !== 0; busy = Atomics.load(counters, slot)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new BriefingError('content', code, `the ${what} for ${HELPER_TIMEOUT_MS / 1000} s without an answer; run it again`);
    Atomics.wait(counters, slot, busy, left);
  }
}
