/**
 * `.flowtap/endpoints.json`: how to reach a running local system (`npm start`), written once it
 * serves, read by the CLI commands that talk to it (`flowtap backfill`, `tail`, `quarantine`) when
 * no `--url` is given, and by anything else a user points at it (the Event Hubs or Storage SDK).
 * This module is the one writer of the file; `formatEndpoints` is the block `npm start` prints.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { configurationError } from "../src/errors";
import type { LogsIngestionConnection } from "./logsingestion/readBack";

/** The file, relative to the folder `npm start` runs in (git-ignored: `.flowtap/`). */
export const ENDPOINTS_FILE = join(".flowtap", "endpoints.json");

export interface FlowtapHubs {
  /** The flattened flow events. */
  events: string;
  /** Anomaly alerts, capture reports and warnings (e.g. a rewritten blob). */
  alerts: string;
  /** Where packet capture reports go (the alerts hub; `flowtap tail --hub captures` keeps only them). */
  captures: string;
}

export interface FlowtapEndpoints {
  /** `http://localhost:PORT`: HTTP functions are under `/api`. */
  functionsBaseUrl: string;
  /** Function-level key (`?code=` or `x-functions-key`): backfill, alerts, blobCreated. */
  functionKey: string;
  /** Admin key: the checkpoint admin route `/api/checkpoints/{container}/{path}`. */
  masterKey: string;
  /** Azurite's Blob and Table endpoints with the development account (a public, documented key). */
  storageConnectionString: string;
  /** The local Event Hubs namespace (plain AMQP; `UseDevelopmentEmulator=true`). */
  eventHubsConnectionString: string;
  hubs: FlowtapHubs;
  // TLS fields: filled in by the Event Hubs TLS endpoint (for clients that only speak AMQPS on 5671).
  /** The same namespace over AMQPS. */
  eventHubsTlsConnectionString?: string;
  /** The CA certificate (PEM file) that signs the AMQPS endpoint's certificate. */
  eventHubsCaFile?: string;
  /** The local Logs Ingestion endpoint (`npm start -- --log-analytics`): its DCR, stream, token and CA. */
  logsIngestion?: LogsIngestionConnection;
}

/** Writes the file under `rootDir` (atomically: a reader never sees half of it); returns its path. */
export async function writeEndpointsFile(endpoints: FlowtapEndpoints, rootDir = process.cwd()): Promise<string> {
  const file = join(rootDir, ENDPOINTS_FILE);
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
  return file;
}

/** The file under `rootDir`, or undefined when there is none; throws naming the file when it is not valid. */
export async function readEndpointsFile(rootDir = process.cwd()): Promise<FlowtapEndpoints | undefined> {
  const file = join(rootDir, ENDPOINTS_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: Partial<FlowtapEndpoints>;
  try {
    parsed = JSON.parse(text) as Partial<FlowtapEndpoints>;
  } catch (error) {
    throw configurationError(`${file} is not JSON (${(error as Error).message}); run npm start again`);
  }
  const required = ["functionsBaseUrl", "functionKey", "masterKey", "storageConnectionString"] as const;
  for (const field of [...required, "eventHubsConnectionString"] as const) {
    if (typeof parsed[field] !== "string") throw configurationError(`${file}: "${field}" is missing`);
  }
  if (typeof parsed.hubs?.events !== "string" || typeof parsed.hubs.alerts !== "string") {
    throw configurationError(`${file}: "hubs" must name the events and alerts hubs`);
  }
  return parsed as FlowtapEndpoints;
}

/** The block `npm start` ends its start-up with: every endpoint, and the commands to try next. */
export function formatEndpoints(endpoints: FlowtapEndpoints, file: string): string {
  const api = `${endpoints.functionsBaseUrl}/api`;
  const { hubs } = endpoints;
  return [
    `flowtap is serving. How to reach it (the same is in ${file}):`,
    `  Functions       ${api}   (HTTP functions: backfill, alerts, checkpoints/{container}/{path})`,
    `  function key    ${endpoints.functionKey}   (?code= or x-functions-key)`,
    `  master key      ${endpoints.masterKey}   (checkpoint admin route)`,
    `  Storage (Blob and Table, Azurite; the emulator's public development key):`,
    `    ${endpoints.storageConnectionString}`,
    `  Event Hubs      ${endpoints.eventHubsConnectionString}`,
    `  hubs            events: ${hubs.events}, alerts: ${hubs.alerts}, captures: ${hubs.captures}`,
    ...(endpoints.eventHubsTlsConnectionString
      ? [`  Event Hubs TLS  ${endpoints.eventHubsTlsConnectionString} (CA: ${endpoints.eventHubsCaFile ?? "-"})`]
      : []),
    ...(endpoints.logsIngestion
      ? [
          `  Logs Ingestion  ${endpoints.logsIngestion.endpoint}   (DCR ${endpoints.logsIngestion.ruleId}, stream ` +
            `${endpoints.logsIngestion.streamName})`,
        ]
      : []),
    `  next, from another terminal in this folder:`,
    `    npx flowtap tail --hub events --from start --count 5    # flow events (NDJSON)`,
    `    npx flowtap tail --hub alerts --from start              # anomaly alerts, captures, warnings`,
    ...(endpoints.logsIngestion
      ? [`    npx flowtap tail --hub loganalytics --from start        # ASIM rows Log Analytics accepted`]
      : []),
    `    npx flowtap quarantine                                  # records set aside, with reasons`,
    `    npx flowtap backfill --from HOUR --to HOUR              # ingest history again`,
  ].join("\n");
}
