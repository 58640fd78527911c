/**
 * The one way the HTTP triggers read a request body: its text parsed as JSON, or the reason it is not JSON, worded
 * like every other 400 of flowtap (`<field>: <what is wrong>`).
 */
import type { HttpRequest } from "@azure/functions";

export type JsonBody = { ok: true; value: unknown } | { ok: false; error: string };

export interface ReadJsonBodyOptions {
  /** The value of an empty (or blank) body; without it an empty body is refused as not JSON. */
  whenEmpty?: unknown;
}

export async function readJsonBody(
  request: Pick<HttpRequest, "text">,
  options: ReadJsonBodyOptions = {},
): Promise<JsonBody> {
  const text = await request.text();
  if ("whenEmpty" in options && text.trim() === "") return { ok: true, value: options.whenEmpty };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: `body: not JSON (${(error as Error).message})` };
  }
}
