/**
 * `flowtap quarantine`: lists what a running system (npm start) set aside in its quarantine
 * container: each record that could not be used, with its source blob, position (record and
 * block index) and reason, and each file `flowtap run` refused whole. One JSON per line, or a
 * short table on a terminal. The storage comes from `.flowtap/endpoints.json`.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import { parseOptions, PROCESS_IO, type CliCommand } from "../command";
import { printable } from "../../src/core/printable";
import { readEndpointsFile } from "../../devhost/endpointsFile";
import { UsageError, type CliIo } from "./generate";

const DEFAULT_QUARANTINE_CONTAINER = "flowtap-quarantine";

const USAGE = `usage: flowtap quarantine [--container NAME] [--connection CS]
  Lists the quarantined records of a running system (npm start): source blob, record and block
  index, reason. One JSON per line, or a table on a terminal. Read one with the Storage SDK or
  Storage Explorer: its name is the "name" printed, in the quarantine container.
  --container NAME    the quarantine container (default ${DEFAULT_QUARANTINE_CONTAINER}, FLOWTAP_QUARANTINE_CONTAINER)
  --connection CS     storage connection string (default: .flowtap/endpoints.json)
example: npx flowtap quarantine
`;

export interface QuarantineRuntime {
  io: CliIo;
  isTty: boolean;
  /** Where `.flowtap/endpoints.json` is looked for (default: the current folder). */
  cwd?: string;
}

/** One quarantined item: a record (with its position) or a whole file refused by `flowtap run`. */
export interface QuarantinedItem {
  name: string;
  sourceBlob: string;
  recordIndex: number | null;
  blockIndex: number | null;
  reason: string;
  sizeInBytes: number;
}

function decoded(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A listed quarantine blob as an item: its metadata says where the record came from and why. */
export function quarantinedItem(name: string, metadata: Record<string, string>, sizeInBytes: number): QuarantinedItem {
  const index = (value: string | undefined): number | null => (value === undefined ? null : Number(value));
  return {
    name,
    sourceBlob: decoded(metadata.sourceblob) ?? name,
    recordIndex: index(metadata.recordindex),
    blockIndex: index(metadata.blockindex),
    reason: decoded(metadata.reason) ?? "refused whole by flowtap run (not a valid flow-log file)",
    sizeInBytes,
  };
}

function tableRow(item: QuarantinedItem): string {
  const position = item.recordIndex === null ? "whole file" : `record ${item.recordIndex}, block ${item.blockIndex}`;
  return `${printable(item.sourceBlob)}\n    ${position}: ${printable(item.reason)}`;
}

async function list(options: { container: string; connection: string | undefined }, runtime: QuarantineRuntime) {
  const endpoints = await readEndpointsFile(runtime.cwd);
  const connection = options.connection ?? endpoints?.storageConnectionString;
  if (connection === undefined) {
    throw new UsageError("no .flowtap/endpoints.json here (is npm start running in this folder?) and no --connection");
  }
  const container = BlobServiceClient.fromConnectionString(connection).getContainerClient(options.container);
  let count = 0;
  if (await container.exists()) {
    for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
      const item = quarantinedItem(blob.name, blob.metadata ?? {}, blob.properties.contentLength ?? 0);
      runtime.io.stdout(`${runtime.isTty ? tableRow(item) : JSON.stringify(item)}\n`);
      count++;
    }
  }
  if (runtime.isTty) runtime.io.stdout(`${count} quarantined in ${options.container}\n`);
  return 0;
}

export async function runQuarantine(args: readonly string[], runtime: QuarantineRuntime): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    runtime.io.stdout(USAGE);
    return 0;
  }
  try {
    const values = parseOptions(args, { container: { type: "string" }, connection: { type: "string" } });
    const container = values.container ?? process.env.FLOWTAP_QUARANTINE_CONTAINER ?? DEFAULT_QUARANTINE_CONTAINER;
    return await list({ container, connection: values.connection }, runtime);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    runtime.io.stderr(`flowtap quarantine: ${error.message}\n${USAGE}`);
    return 2;
  }
}

export const quarantineCommand: CliCommand = {
  name: "quarantine",
  summary: "list the records a running system (npm start) quarantined, with their reasons and positions",
  run: (args) =>
    runQuarantine(args, {
      io: PROCESS_IO,
      isTty: process.stdout.isTTY === true,
    }),
};
