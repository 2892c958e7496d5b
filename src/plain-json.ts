/** Deeper than any config nests; a deeper text is left to the yaml package, which reports it. */
const PLAIN_JSON_DEPTH = 32;

/**
 * The value of a text that is plain JSON in which no object repeats a key, else undefined: read
 * with JSON.parse, without the yaml package (some 60 ms to load before a command's work, which only
 * a problem's line needs). JSON.parse keeps the last of a repeated key without a word, where the
 * yaml package refuses it; so a text whose objects hold fewer keys than it names is left to that
 * package, as is one nested deeper than PLAIN_JSON_DEPTH.
 */
export function plainJsonValue(text: string): { value: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const held = keysHeld(value);
  return held !== undefined && held === keysNamed(text) ? { value } : undefined;
}

/** The keys of every object in a parsed JSON value; undefined when it nests deeper than PLAIN_JSON_DEPTH. */
function keysHeld(value: unknown): number | undefined {
  let count = 0;
  // Without recursion: a text nested thousands deep must not exhaust the stack here.
  const pending: Array<{ item: unknown; depth: number }> = [{ item: value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { item, depth } = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= PLAIN_JSON_DEPTH) return undefined;
    const fields = Array.isArray(item) ? (item as unknown[]) : Object.values(item);
    if (!Array.isArray(item)) count += fields.length;
    for (const field of fields) pending.push({ item: field, depth: depth + 1 });
  }
  return count;
}

/** Strings followed by a colon in valid JSON: its object keys. */
function keysNamed(json: string): number {
  let count = 0;
  for (let quote = json.indexOf('"'); quote !== -1; ) {
    let end = quote + 1;
    while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
    let next = end + 1;
    while (json[next] === ' ' || json[next] === '\t' || json[next] === '\n' || json[next] === '\r') next += 1;
    if (json[next] === ':') count += 1;
    quote = json.indexOf('"', next);
  }
  return count;
}
