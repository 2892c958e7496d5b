import type { Context } from 'hono';

/** The text fields of a posted form (urlencoded or multipart); uploaded files are ignored. */
export interface FormFields {
  /** The first value of a field, or undefined. */
  text(name: string): string | undefined;
  /** Every value of a field (the checked boxes of one name), in order. */
  all(name: string): string[];
}

const FORM_KEY = 'form';

/**
 * The request's form, parsed once per request: the rate limiter may read a link's token from it
 * before the handler reads the rest. Its size is bounded by the body limit the app puts in front of
 * every POST. Undefined when the body is not a readable form.
 */
export function readForm(c: Context): Promise<FormFields | undefined> {
  const known = c.get(FORM_KEY) as Promise<FormFields | undefined> | undefined;
  if (known !== undefined) return known;
  const parsed = c.req.parseBody({ all: true }).then(
    (body): FormFields => {
      const all = (name: string): string[] => {
        const value = Object.hasOwn(body, name) ? body[name] : undefined;
        return (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');
      };
      return { all, text: (name) => all(name)[0] };
    },
    () => undefined,
  );
  c.set(FORM_KEY, parsed);
  return parsed;
}
