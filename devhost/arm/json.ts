/** Parses JSON text; gives back the text itself when it is not JSON, undefined when empty. */
export function parseJsonOrText(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
