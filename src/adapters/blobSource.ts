/**
 * The Blob storage side of ingestion: committed block lists, ranged streamed reads, paged listings,
 * a hierarchy walk (so backfill and reconcile never list a whole account) and the quarantine of
 * records that cannot be parsed. A thin layer over `@azure/storage-blob`: the SDK's retry policy
 * retries transient failures; what still fails becomes a ServiceError that says whether to retry.
 */
import { RestError, type BlobServiceClient, type StorageRetryOptions } from "@azure/storage-blob";
import type { Readable } from "node:stream";
import type { StorageSettings } from "../config";
import { parseAcceptedBlobUrl, type BlobLocation } from "../core/blobUrl";
import { ServiceError, ValidationError } from "../errors";
import { logFailure, logger } from "../logger";
import { createBlobServiceClient } from "./credentials";

export interface CreateBlobSourceOptions {
  /** Retries of each request (the SDK's policy); default: the SDK's (exponential, 4 tries). */
  retryOptions?: StorageRetryOptions;
  /** How often a broken ranged download resumes where it broke; default 5. */
  maxResumeRequests?: number;
}

export interface CommittedBlock {
  /** The block id as the service returns it (base64). */
  id: string;
  sizeInBytes: number;
}

export interface CommittedBlocks {
  blocks: CommittedBlock[];
  contentLength: number;
  etag: string;
}

export interface ListedBlob {
  path: string;
  contentLength: number;
  lastModified: Date;
}

export interface ListBlobsOptions {
  /** Blobs per listing request (the service's maximum and default is 5,000). */
  maxPageSize?: number;
}

export interface QuarantineRecord {
  container: string;
  path: string;
  recordIndex: number;
  blockIndex: number;
  reason: string;
  /** The record's raw text as read from the blob. */
  rawText: string;
}

export interface BlobSource {
  /** The committed block list of a blob; undefined when the blob (or its container) does not exist. */
  getCommittedBlocks(container: string, path: string): Promise<CommittedBlocks | undefined>;
  /**
   * Exactly `countInBytes` bytes from `offsetInBytes`, streamed (resumed on a broken connection);
   * with `ifMatch`, only while the blob has that etag (ValidationError otherwise).
   */
  openRange(
    container: string,
    path: string,
    offsetInBytes: number,
    countInBytes: number,
    options?: { ifMatch?: string },
  ): Promise<Readable>;
  /** Every blob under `prefix`, page by page; nothing when the container does not exist. */
  listBlobs(container: string, prefix: string, options?: ListBlobsOptions): AsyncIterable<ListedBlob>;
  /** The child "directories" of `prefix` (each ends with the delimiter); one level, paged. */
  listPrefixes(container: string, prefix: string, delimiter?: string): AsyncIterable<string>;
  /** Writes a record's raw text to the quarantine container; the same record always gets the same name. */
  quarantine(record: QuarantineRecord): Promise<BlobLocation>;
}

/** Metadata values must be ASCII and all metadata of a blob stays under 8 KB: long reasons are cut. */
const MAX_REASON_LENGTH = 1024;

export function createBlobSource(settings: StorageSettings, options: CreateBlobSourceOptions = {}): BlobSource {
  const service = createBlobServiceClient(settings.connection, { retryOptions: options.retryOptions });
  return new StorageBlobSource(service, settings.quarantineContainer, options.maxResumeRequests ?? 5);
}

/**
 * Accepts an Event Grid blob URL only for the configured account and containers and a PT1H.json
 * blob (see core/blobUrl); throws ValidationError naming the URL and the reason otherwise.
 */
export function assertAcceptedBlobUrl(
  url: string,
  settings: Pick<StorageSettings, "accountName" | "containers">,
): BlobLocation {
  return parseAcceptedBlobUrl(url, settings);
}

/** The name a quarantined record gets: `{container}/{path}/record-{recordIndex:06}.json`. */
export function quarantineBlobName(record: Pick<QuarantineRecord, "container" | "path" | "recordIndex">): string {
  return `${record.container}/${record.path}/record-${String(record.recordIndex).padStart(6, "0")}.json`;
}

class StorageBlobSource implements BlobSource {
  private quarantineReady: Promise<unknown> | undefined;

  constructor(
    private readonly service: BlobServiceClient,
    private readonly quarantineContainer: string,
    private readonly maxResumeRequests: number,
  ) {}

  async getCommittedBlocks(container: string, path: string): Promise<CommittedBlocks | undefined> {
    const blob = this.service.getContainerClient(container).getBlockBlobClient(path);
    try {
      const list = await blob.getBlockList("committed");
      const blocks = (list.committedBlocks ?? []).map((block) => ({ id: block.name, sizeInBytes: block.size }));
      return { blocks, contentLength: list.blobContentLength ?? 0, etag: list.etag ?? "" };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw serviceError(`get the committed block list of ${container}/${path}`, error);
    }
  }

  async openRange(
    container: string,
    path: string,
    offsetInBytes: number,
    countInBytes: number,
    options: { ifMatch?: string } = {},
  ): Promise<Readable> {
    const where = `${container}/${path} [${offsetInBytes}, +${countInBytes})`;
    // The SDK reads a count of 0 (or none) as "to the end of the blob": refuse it outright.
    if (
      !Number.isSafeInteger(offsetInBytes) ||
      offsetInBytes < 0 ||
      !Number.isSafeInteger(countInBytes) ||
      countInBytes < 1
    ) {
      throw refused(`Range ${where}: the offset must be an integer >= 0 and the count an integer >= 1`);
    }
    const blob = this.service.getContainerClient(container).getBlobClient(path);
    let response;
    try {
      response = await blob.download(offsetInBytes, countInBytes, {
        maxRetryRequests: this.maxResumeRequests,
        ...(options.ifMatch !== undefined && { conditions: { ifMatch: options.ifMatch } }),
      });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 416) {
        throw refused(`Range ${where} starts beyond the end of the blob`, error);
      }
      if (error instanceof RestError && error.statusCode === 412) {
        throw refused(`Range ${where}: the blob changed (its etag is no longer ${options.ifMatch})`, error);
      }
      throw serviceError(`read range ${where}`, error);
    }
    const body = response.readableStreamBody as Readable | undefined;
    if (!body) throw new ServiceError(`Read range ${where}: the response has no body`, { retryable: true });
    if (response.contentLength !== countInBytes) {
      body.destroy();
      throw refused(`Range ${where} ends beyond the end of the blob (${response.contentLength ?? 0} bytes available)`);
    }
    return body;
  }

  async *listBlobs(container: string, prefix: string, options: ListBlobsOptions = {}): AsyncIterable<ListedBlob> {
    const pages = this.service
      .getContainerClient(container)
      .listBlobsFlat({ prefix })
      .byPage({ maxPageSize: options.maxPageSize });
    try {
      for await (const page of pages) {
        for (const item of page.segment.blobItems) {
          yield {
            path: item.name,
            contentLength: item.properties.contentLength ?? 0,
            lastModified: item.properties.lastModified,
          };
        }
      }
    } catch (error) {
      if (isNotFound(error)) {
        logger.info(`List ${container}/${prefix}: the container does not exist (yet)`);
        return;
      }
      throw serviceError(`list blobs in ${container}/${prefix}`, error);
    }
  }

  async *listPrefixes(container: string, prefix: string, delimiter = "/"): AsyncIterable<string> {
    const pages = this.service.getContainerClient(container).listBlobsByHierarchy(delimiter, { prefix }).byPage();
    try {
      for await (const page of pages) {
        for (const item of page.segment.blobPrefixes ?? []) yield item.name;
      }
    } catch (error) {
      if (isNotFound(error)) return;
      throw serviceError(`list prefixes in ${container}/${prefix}`, error);
    }
  }

  async quarantine(record: QuarantineRecord): Promise<BlobLocation> {
    const target = this.service.getContainerClient(this.quarantineContainer);
    const path = quarantineBlobName(record);
    const body = Buffer.from(record.rawText, "utf8");
    try {
      // Created once per process; a failed attempt is forgotten so the next call tries again.
      this.quarantineReady ??= target.createIfNotExists().catch((error: unknown) => {
        this.quarantineReady = undefined;
        throw error;
      });
      await this.quarantineReady;
      // Overwrites: a retried quarantine of the same record writes the same blob again.
      await target.getBlockBlobClient(path).upload(body, body.byteLength, {
        blobHTTPHeaders: { blobContentType: "application/json; charset=utf-8" },
        metadata: {
          sourceblob: asciiSafe(`${record.container}/${record.path}`),
          recordindex: String(record.recordIndex),
          blockindex: String(record.blockIndex),
          reason: asciiSafe(truncate(record.reason, MAX_REASON_LENGTH)),
        },
      });
    } catch (error) {
      throw serviceError(`quarantine record ${record.recordIndex} of ${record.container}/${record.path}`, error);
    }
    logger.warning(
      `Quarantined record ${record.recordIndex} (block ${record.blockIndex}) ` +
        `of ${record.container}/${record.path}: ${record.reason}`,
    );
    return { container: this.quarantineContainer, path };
  }
}

/** Percent-encodes a metadata value (HTTP headers carry ASCII only); decode with decodeURIComponent. */
export function asciiSafe(text: string): string {
  // Lone surrogates would make encodeURIComponent throw: replace them with U+FFFD first.
  return encodeURIComponent(
    text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"),
  );
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}

/** A range the blob cannot serve: the caller's plan is stale or wrong, retrying the same read won't help. */
function refused(message: string, cause?: unknown): ValidationError {
  const error = new ValidationError(message, { cause });
  logFailure("Blob read refused", error);
  return error;
}

function isNotFound(error: unknown): boolean {
  return error instanceof RestError && error.statusCode === 404;
}

/** Whatever the SDK's retries left over: 408, 429 and 5xx (or no answer at all) are worth another try. */
function serviceError(what: string, error: unknown): ServiceError {
  const status = error instanceof RestError ? error.statusCode : undefined;
  const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
  const failure = new ServiceError(
    `Blob storage: could not ${what}: ${error instanceof Error ? error.message : String(error)}`,
    {
      retryable,
      cause: error,
    },
  );
  logFailure("Blob storage call failed", failure);
  return failure;
}
