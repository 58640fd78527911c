/**
 * The Event Hubs part of `.flowtap/endpoints.json`, which `npm start` writes so that clients outside the
 * process (Python, Java, .NET, Qpid) can find the running endpoint. Other parts of the local system add
 * their own fields to the same file; writing merges into what is there.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { configurationError } from "../../src/errors";
import type { LocalEventHubsEndpoint } from "./endpoint";

export const ENDPOINTS_FILE = ".flowtap/endpoints.json";

export interface EventHubsEndpointEntries {
  /** Emulator form, plain AMQP: current SDKs (`UseDevelopmentEmulator=true`). */
  eventHubsConnectionString: string;
  /** `Endpoint=sb://localhost/;...` over AMQPS: any client, trusting `eventHubsCaFile`. */
  eventHubsTlsConnectionString: string;
  /** The local CA's certificate (PEM), e.g. Python azure-eventhub's `connection_verify`. */
  eventHubsCaFile: string;
}

/** The entries for `hub` (the connection strings name it in `EntityPath`). */
export function eventHubsEndpointEntries(endpoint: LocalEventHubsEndpoint, hub: string): EventHubsEndpointEntries {
  return {
    eventHubsConnectionString: endpoint.connectionString(hub),
    eventHubsTlsConnectionString: endpoint.tlsConnectionString(hub),
    eventHubsCaFile: endpoint.caFile,
  };
}

async function readEntries(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw configurationError(`${file}: expected a JSON object, found ${text.slice(0, 40)}`);
  return parsed as Record<string, unknown>;
}

/** Sets `entries` in the JSON object of `file` (made if missing), keeping its other fields; atomic. */
export async function writeEndpointEntries(file: string, entries: object): Promise<void> {
  let existing: Record<string, unknown>;
  try {
    existing = await readEntries(file);
  } catch (error) {
    // A broken file from an earlier run is replaced rather than blocking the start.
    if (!(error instanceof SyntaxError)) throw error;
    existing = {};
  }
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...existing, ...entries }, null, 2)}\n`);
  await rename(temporary, file);
}
