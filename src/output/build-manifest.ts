import { z } from 'zod';

/** Where the incremental build keeps its notes; a dot file, so the web server never serves it. */
export const MANIFEST_PATH = '.build-manifest.json';

const manifestSchema = z.strictObject({
  version: z.literal(1),
  /** For each file the build wrote (path relative to output/), the key of everything it was made from. */
  outputs: z.record(z.string(), z.string()),
});

/** What the last build produced, so the next one re-renders only what changed. */
export type BuildManifest = z.infer<typeof manifestSchema>;

/** Reads a manifest; a missing, damaged or older one yields undefined, which means a full build. */
export function parseManifest(text: string | undefined): BuildManifest | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Serialises a manifest with its paths sorted, so equal builds give equal bytes. */
export function serializeManifest(manifest: BuildManifest): string {
  const outputs = Object.fromEntries(Object.entries(manifest.outputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ version: manifest.version, outputs }, null, 1)}\n`;
}
