import type { IncomingMessage } from "node:http";
import type { Server } from "node:https";
import { ArmHttpError } from "./armHttpError";
import { INVALID_REQUEST_CODE } from "./packetCaptures";

/** One request as the handlers see it. */
export interface RequestContext {
  method: string;
  url: URL;
  body: unknown;
  apiVersion: string;
}

/** What the endpoint answers; `reset` drops the connection without an answer (a network failure). */
export interface ArmResponse {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
  reset?: boolean;
}

export function ok(body: unknown): ArmResponse {
  return { statusCode: 200, body };
}

export function answerOf(error: ArmHttpError): ArmResponse {
  return { statusCode: error.statusCode, body: error.toBody(), headers: error.headers };
}

/** A list answer; with `pageSize`, one page plus a `nextLink` carrying `$skiptoken` (x-ms-pageable). */
export function page(context: RequestContext, values: unknown[], pageSize: number | undefined): ArmResponse {
  if (pageSize === undefined) return ok({ value: values });
  const skipToken = context.url.searchParams.get("$skiptoken") ?? "0";
  if (!/^\d+$/.test(skipToken))
    throw new ArmHttpError(400, "InvalidSkipToken", `The $skiptoken '${skipToken}' is not valid.`);
  const start = Number(skipToken);
  const end = start + pageSize;
  const nextLink = new URL(context.url.href);
  nextLink.searchParams.set("$skiptoken", String(end));
  return ok({ value: values.slice(start, end), ...(end < values.length && { nextLink: nextLink.href }) });
}

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

export function parseJsonOrThrow(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ArmHttpError(
      400,
      INVALID_REQUEST_CODE,
      `Cannot parse the request: the body is not valid JSON (${(error as Error).message}).`,
    );
  }
}

export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Clients keep sockets alive; close them so stop() does not wait for their idle timeout.
    server.closeAllConnections();
  });
}
