import { setFlagsFromString } from 'node:v8';

/** Old generation collected at 1.2 times what is live (V8 lets it grow to several times that by default). */
const HEAP_GROWING_PERCENT = 20;

/**
 * Keeps a send's memory flat however long the list: a send allocates a few kilobytes per message
 * that die at once, over a live heap of some 20 MB. By default V8 doubles its young generation up
 * to 2 × 16 MB as it sees that traffic and lets the old generation fill with what leaked into it up
 * to several times what is live; neither bought throughput here, and the peak grew with the list
 * (148-151 MB at 100,000 subscribers, 155 MB at 1,000,000). The young generation now stays at
 * its starting size (the growth factor is read each time V8 would grow it, so it can be set once
 * the process runs, but must be before it first grows) and the old one is collected at 1.2 times
 * what is live: 104-106 MB at 100,000. Process-wide: the composition root sets it for `briefing
 * send` before loading the command (run and schedule build sites too, and are left as they were).
 */
export function keepSendHeapSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  // Scavenges of so small a young generation are short, and helper threads only make the main thread
  // wait for them while another process (the MJML renderer, the server) holds the second core: 20-30 ms
  // less to a stored edition's first message on 2 cores, the same send rate.
  setFlagsFromString('--no-parallel-scavenge');
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
