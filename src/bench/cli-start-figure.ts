import { cleanEnvironment, cliPath } from './bench-publication.js';
import { failedFigure, figure, type Figure } from './bench-report.js';
import { expectSuccess, median, runChild } from './measure.js';

/** `briefing --help` against `node -e 0`, alternating, median of `runs` each (one warm-up of each first). */
export async function cliStartFigure(runs: number, log: (line: string) => void): Promise<Figure> {
  try {
    log(`  briefing --help and node -e 0, ${runs} runs each`);
    const options = { env: cleanEnvironment() };
    const help = async (): Promise<number> => expectSuccess('briefing --help', await runChild(process.execPath, [cliPath(), '--help'], options)).ms;
    const bare = async (): Promise<number> => expectSuccess('node -e 0', await runChild(process.execPath, ['-e', '0'], options)).ms;
    await help();
    await bare();
    const helpMs: number[] = [];
    const bareMs: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      helpMs.push(await help());
      bareMs.push(await bare());
    }
    return figure({
      id: 'cli.helpStart',
      name: 'briefing --help start ÷ node -e 0 (median)',
      value: median(helpMs) / median(bareMs),
      unit: '×',
      goal: { atMost: 3 },
      detail: { helpMs: median(helpMs), nodeMs: median(bareMs), runs },
    });
  } catch (error) {
    return failedFigure('cli.helpStart', 'briefing --help start ÷ node -e 0', error);
  }
}
