/**
 * A folder of flow-log blobs laid out as `azcopy` downloads them
 * (`DIR/insights-logs-networksecuritygroupflowevent/resourceId=/.../PT1H.json`,
 * `DIR/insights-logs-flowlogflowevent/flowLogResourceID=/.../PT1H.json`), uploaded to a storage
 * account the way the service writes them: a head block, one block per record, the tail block.
 * Files that are not clean flow logs are reported with their path and copied as they are to the
 * quarantine container, never to a flow-log container, so the pipeline only sees valid blobs.
 */
import type { BlobServiceClient } from "@azure/storage-blob";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { splitRecords, tryParseBlobPath } from "../src/core";
import { flattenFlowLog } from "../src/core/flatten";
import { FLOW_LOG_BLOB_NAME } from "../src/core/blobUrl";
import { ValidationError } from "../src/errors";
import { logger } from "../src/logger";
import { FlowLogBlobWriter } from "./flowLogWriter";

/** A flow-log file found in the folder and where it goes. */
export interface SourceBlob {
  /** The file on disk. */
  file: string;
  container: string;
  /** Container-relative blob name (`resourceId=/SUBSCRIPTIONS/.../PT1H.json`). */
  path: string;
  /** Start of the blob's hour, ISO-8601 UTC. */
  hour: string;
}

/** A file left out of the pipeline, and why. */
export interface RejectedFile {
  file: string;
  reason: string;
  /** Where the file was copied as it is, or null when it was not (not a flow-log blob at all). */
  quarantinedAs: string | null;
}

export interface UploadedBlob extends SourceBlob {
  records: number;
  sizeInBytes: number;
}

export interface UploadSourceFolderOptions {
  sourceDir: string;
  blobService: BlobServiceClient;
  /** The flow-log containers the app reads (files under other folders are rejected). */
  containers: readonly string[];
  /** Where files that are not valid flow logs are copied. */
  quarantineContainer: string;
  /** Called after each flow-log file, uploaded or quarantined. */
  onProgress?: (done: number, total: number) => void;
}

export interface UploadSourceFolderResult {
  uploaded: UploadedBlob[];
  rejected: RejectedFile[];
  /** The hours the uploaded blobs cover: first (inclusive) and end (exclusive), ISO-8601; null when none. */
  hours: { from: string; to: string } | null;
}

const HOUR_IN_MS = 3_600_000;

/** Every file under `sourceDir`, as `/`-separated relative paths, sorted (deterministic order). */
async function filesUnder(sourceDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(sourceDir, { recursive: true, withFileTypes: true });
  } catch (cause) {
    throw new ValidationError(`--source ${sourceDir}: cannot read the folder (${(cause as Error).message})`, { cause });
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(sourceDir, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort();
}

/** Sorts the folder's files into flow-log blobs (by container and path) and files that are not. */
export async function findSourceBlobs(
  sourceDir: string,
  containers: readonly string[],
): Promise<{ blobs: SourceBlob[]; rejected: RejectedFile[] }> {
  const blobs: SourceBlob[] = [];
  const rejected: RejectedFile[] = [];
  for (const relativePath of await filesUnder(sourceDir)) {
    const file = join(sourceDir, ...relativePath.split("/"));
    const [container = "", ...rest] = relativePath.split("/");
    const path = rest.join("/");
    const reject = (reason: string): void => void rejected.push({ file, reason, quarantinedAs: null });
    if (!containers.includes(container)) {
      reject(`not under a flow-log container folder (${containers.join(", ")})`);
      continue;
    }
    if (rest.at(-1) !== FLOW_LOG_BLOB_NAME) {
      reject(`not a ${FLOW_LOG_BLOB_NAME} blob`);
      continue;
    }
    const parsed = tryParseBlobPath(path);
    if (!parsed) {
      reject(`'${path}' is not a flow-log blob path`);
      continue;
    }
    blobs.push({ file, container, path: parsed.path, hour: parsed.hour });
  }
  return { blobs, rejected };
}

/**
 * The first problem that keeps a file's text from being a clean flow log, or null. An empty
 * `records` array is clean: an hour without traffic (the service writes such blobs).
 */
function flowLogProblem(text: string, path: string): { records: string[]; problem: string | null } {
  const split = splitRecords(text);
  const issues = [...split.issues, ...flattenFlowLog(text, { blobPath: path }).issues];
  if (issues.length > 0) return { records: [], problem: issues[0]!.message };
  return { records: split.records.map((record) => record.text), problem: null };
}

/** Files uploaded at once: Azurite and the client overlap their requests. */
const PARALLEL_UPLOADS = 4;

/** Uploads one file as the service writes it, or copies it to quarantine when it is not a clean flow log. */
async function uploadOne(blob: SourceBlob, options: UploadSourceFolderOptions): Promise<UploadedBlob | RejectedFile> {
  const bytes = await readFile(blob.file);
  const { records, problem } = flowLogProblem(bytes.toString("utf8"), blob.path);
  if (problem !== null) {
    const name = `${blob.container}/${blob.path}`;
    const quarantine = options.blobService.getContainerClient(options.quarantineContainer);
    await quarantine.createIfNotExists();
    await quarantine.getBlockBlobClient(name).uploadData(bytes);
    logger.warning(`${blob.file}: not a valid flow log (${problem}); copied to ${options.quarantineContainer}/${name}`);
    return { file: blob.file, reason: problem, quarantinedAs: `${options.quarantineContainer}/${name}` };
  }
  const writer = new FlowLogBlobWriter(options.blobService.getContainerClient(blob.container), blob.path);
  const commit = await writer.append(...records);
  return { ...blob, records: records.length, sizeInBytes: commit.contentLength };
}

/** Uploads every flow-log file of the folder as the service writes it; reports the others. */
export async function uploadSourceFolder(options: UploadSourceFolderOptions): Promise<UploadSourceFolderResult> {
  const { blobs, rejected } = await findSourceBlobs(options.sourceDir, options.containers);
  const outcomes: (UploadedBlob | RejectedFile)[] = new Array(blobs.length);
  let next = 0;
  let done = 0;
  options.onProgress?.(0, blobs.length);
  const worker = async (): Promise<void> => {
    for (let index = next++; index < blobs.length; index = next++) {
      outcomes[index] = await uploadOne(blobs[index]!, options);
      options.onProgress?.(++done, blobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, blobs.length) }, worker));
  const uploaded = outcomes.filter((outcome): outcome is UploadedBlob => "path" in outcome);
  rejected.push(...outcomes.filter((outcome): outcome is RejectedFile => "reason" in outcome));
  return { uploaded, rejected, hours: hoursOf(uploaded) };
}

function hoursOf(blobs: readonly SourceBlob[]): UploadSourceFolderResult["hours"] {
  if (blobs.length === 0) return null;
  const starts = blobs.map((blob) => Date.parse(blob.hour));
  const from = starts.reduce((a, b) => Math.min(a, b));
  const to = starts.reduce((a, b) => Math.max(a, b)) + HOUR_IN_MS;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}
