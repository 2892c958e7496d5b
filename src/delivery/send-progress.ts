import type { Logger } from 'pino';
import type { SendProgress, SendSummary } from './send-edition.js';

/** Shows a send as it goes; `finish` clears a bar before the summary is printed. */
export interface ProgressReporter {
  update(progress: SendProgress): void;
  finish(): void;
}

/** Plain lines at most this often, so a log is readable at 5,000 messages a second. */
const LINE_EVERY_MESSAGES = 5000;
const LINE_EVERY_MS = 5000;

function perSecond(progress: SendProgress): number {
  return progress.elapsedMs > 0 ? (progress.sent * 1000) / progress.elapsedMs : 0;
}

/** Seconds left at the rate so far, or undefined before there is a rate. */
function secondsLeft(progress: SendProgress): number | undefined {
  const rate = (progress.sent + progress.failed) / Math.max(progress.elapsedMs, 1);
  return rate > 0 ? Math.ceil((progress.total - progress.done) / rate / 1000) : undefined;
}

/**
 * A cli-progress bar with rate and ETA when stdout is a terminal (loaded only then), else one
 * log line every 5,000 messages or 5 seconds.
 */
export async function createProgressReporter(options: { interactive: boolean; logger: Logger }): Promise<ProgressReporter> {
  if (options.interactive) {
    const { default: progressBars } = await import('cli-progress');
    const bar = new progressBars.SingleBar(
      {
        format: 'Sending {edition} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted} | failed {failed} | retried {retried}',
        hideCursor: true,
        etaBuffer: 200,
      },
      progressBars.Presets.shades_classic,
    );
    let started = false;
    return {
      update(progress) {
        const payload = { edition: progress.editionId, rate: Math.round(perSecond(progress)), failed: progress.failed, retried: progress.retried };
        if (!started) {
          bar.start(progress.total, progress.done, payload);
          started = true;
        } else {
          bar.update(progress.done, payload);
        }
      },
      finish() {
        if (started) bar.stop();
      },
    };
  }
  let lastAt = 0;
  let lastCount = 0;
  return {
    update(progress) {
      const handled = progress.sent + progress.failed;
      if (handled - lastCount < LINE_EVERY_MESSAGES && progress.elapsedMs - lastAt < LINE_EVERY_MS && progress.done < progress.total) return;
      lastAt = progress.elapsedMs;
      lastCount = handled;
      const left = secondsLeft(progress);
      const share = progress.total > 0 ? Math.floor((progress.done * 100) / progress.total) : 100;
      options.logger.info(
        { edition: progress.editionId, done: progress.done, total: progress.total, sent: progress.sent, failed: progress.failed, retried: progress.retried },
        `sending ${progress.editionId}: ${progress.done}/${progress.total} (${share}%), ${Math.round(perSecond(progress))}/s${left === undefined ? '' : `, ETA ${left} s`}`,
      );
    },
    finish() {},
  };
}

/** The summary of a send as printable lines. */
export function formatSendSummary(summary: SendSummary): string[] {
  const seconds = summary.elapsedMs / 1000;
  const { counts } = summary;
  return [
    `Sent ${summary.sent}, failed ${summary.failed}${summary.bounced > 0 ? ` (${summary.bounced} bounced)` : ''}, retried ${summary.retried} in ${seconds.toFixed(1)} s (${Math.round(summary.rate)}/s)`,
    `Edition ${summary.editionId}: ${counts.sent} sent, ${counts.failed} failed, ${counts.skipped} skipped (nothing for their topics), ${counts.queued + counts.sending} not yet sent`,
    ...(summary.stopped ? [`Stopped before the end: run \`briefing send --resume --date ${summary.editionId}\` to continue`] : []),
    ...(counts.failed > 0 ? [`Failed deliveries are listed by \`briefing status --date ${summary.editionId}\``] : []),
  ];
}
