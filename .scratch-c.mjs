import { loadArticles } from './dist/content/load-articles.js';
import { loadConfig } from './dist/config.js';
const config = loadConfig('briefing.config.json');
for (let k = 0; k < 2; k++) {
  const t0 = performance.now();
  const a = await loadArticles({ dir: '/tmp/scratchA/bench', topics: config.topics, timeZone: config.timeZone });
  console.log(a.length, performance.now() - t0);
}
