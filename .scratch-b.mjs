import { parse, parseDocument, LineCounter, Parser, Composer } from 'yaml';
import { readFileSync } from 'node:fs';
const text = readFileSync('content/2025-07-23-istanbul-talks-wrap.md', 'utf8');
const yamlText = text.split('---\n')[1];
const N = 2000;
let t0 = performance.now();
for (let i = 0; i < N; i++) parse(yamlText);
console.log('parse', (performance.now() - t0) / N);
t0 = performance.now();
for (let i = 0; i < N; i++) parseDocument(yamlText);
console.log('parseDocument', (performance.now() - t0) / N);
t0 = performance.now();
for (let i = 0; i < N; i++) { const lc = new LineCounter(); parseDocument(yamlText, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }).toJS({maxAliasCount: 100}); }
console.log('parseDocument+lc+toJS', (performance.now() - t0) / N);
t0 = performance.now();
for (let i = 0; i < N; i++) JSON.parse(JSON.stringify({a:1}));
