/**
 * Writes a flow-log `PT1H.json` block blob the way the service does (design §2): a 12-byte head
 * block `{"records":[`, one block per record (`,{...}` except the first record), and a 2-byte tail
 * block `]}` kept last; every append stages the new record block and re-commits the block list
 * with it inserted before the tail. Each commit returns the BlobCreated event Event Grid would
 * deliver. For local runs and tests (Azurite), including rewritten blobs and poison records.
 */
import type { BlockBlobCommitBlockListResponse, ContainerClient } from "@azure/storage-blob";
import { randomUUID } from "node:crypto";
import { FLOW_LOG_HEAD, FLOW_LOG_TAIL } from "../src/core/blocks";
import { ValidationError } from "../src/errors";
import { buildBlobCreatedEvents, nextSequencer, type BlobCreatedEvents } from "./blobCreatedEvent";

/** A record object (serialised with JSON.stringify) or its JSON text, without separators. */
export type FlowLogRecordInput = object | string;

export interface FlowLogWriterOptions {
  /** For the event topic; default a zero GUID. */
  subscriptionId?: string;
  /** For the event topic; default "flowtap-local". */
  resourceGroup?: string;
  /** Event time source; default the clock. */
  now?: () => Date;
}

export interface FlowLogCommitResult {
  /** The BlobCreated event of this commit, in both schemas. */
  events: BlobCreatedEvents;
  /** Committed blocks after the commit, head and tail included. */
  blockCount: number;
  contentLength: number;
  eTag: string;
}

interface Block {
  id: string;
  sizeInBytes: number;
}

export class FlowLogBlobWriter {
  private readonly options: Required<FlowLogWriterOptions>;
  /** Committed blocks without the tail; undefined until loaded from the blob. */
  private blocks: Block[] | undefined;
  private tail: Block | undefined;
  /** Commits run one after the other: each builds on the previous block list. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly container: ContainerClient,
    readonly blobName: string,
    options: FlowLogWriterOptions = {},
  ) {
    this.options = {
      subscriptionId: options.subscriptionId ?? "00000000-0000-0000-0000-000000000000",
      resourceGroup: options.resourceGroup ?? "flowtap-local",
      now: options.now ?? (() => new Date()),
    };
  }

  get url(): string {
    return this.container.getBlockBlobClient(this.blobName).url;
  }

  /** Appends records (one block each) before the tail in one commit; creates the blob if needed. */
  append(...records: FlowLogRecordInput[]): Promise<FlowLogCommitResult> {
    return this.serialized(async () => {
      const blocks = await this.loadBlocks();
      const existingRecordCount = Math.max(blocks.length - 1, 0);
      const texts = records.map((record, i) => {
        const json = recordText(record, i);
        return existingRecordCount + i > 0 ? `,${json}` : json;
      });
      return this.commit(blocks, [...headIfNew(blocks), ...texts]);
    });
  }

  /** Appends one block holding exactly `text` (a poison or malformed record), before the tail. */
  appendRawBlock(text: string): Promise<FlowLogCommitResult> {
    return this.serialized(async () => {
      const blocks = await this.loadBlocks();
      return this.commit(blocks, [...headIfNew(blocks), text]);
    });
  }

  /** Replaces the blob from scratch with these records: new block ids for every block. */
  rewrite(records: readonly FlowLogRecordInput[]): Promise<FlowLogCommitResult> {
    return this.serialized(async () => {
      await this.loadBlocks(); // creates the container when needed
      this.tail = undefined;
      const texts = records.map((record, i) => (i === 0 ? recordText(record, i) : `,${recordText(record, i)}`));
      return this.commit([], [FLOW_LOG_HEAD, ...texts]);
    });
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {
      // The commit may or may not have happened: read the block list again next time.
      this.blocks = undefined;
      this.tail = undefined;
    });
    return result;
  }

  /** The committed blocks without the tail (none for a new blob), read once from the blob. */
  private async loadBlocks(): Promise<Block[]> {
    if (this.blocks !== undefined) return this.blocks;
    await this.container.createIfNotExists();
    const blob = this.container.getBlockBlobClient(this.blobName);
    let committed: Block[] = [];
    if (await blob.exists()) {
      const list = await blob.getBlockList("committed");
      committed = (list.committedBlocks ?? []).map((block) => ({ id: block.name, sizeInBytes: block.size }));
    }
    const last = committed.at(-1);
    if (committed.length >= 2 && last?.sizeInBytes === FLOW_LOG_TAIL.length) {
      this.tail = last;
      committed = committed.slice(0, -1);
    }
    this.blocks = committed;
    return committed;
  }

  /** Stages `texts` as new blocks after `blocks` (and the tail when missing), commits all. */
  private async commit(blocks: readonly Block[], texts: readonly string[]): Promise<FlowLogCommitResult> {
    const blob = this.container.getBlockBlobClient(this.blobName);
    const tailText = this.tail === undefined ? [FLOW_LOG_TAIL] : [];
    const newBlocks: Block[] = [];
    for (const text of [...texts, ...tailText]) {
      const body = Buffer.from(text, "utf8");
      const block = { id: newBlockId(), sizeInBytes: body.byteLength };
      await blob.stageBlock(block.id, body, body.byteLength);
      newBlocks.push(block);
    }
    const tail = this.tail ?? (newBlocks.pop() as Block);
    const committed = [...blocks, ...newBlocks];
    const all = [...committed, tail];
    const response = await blob.commitBlockList(
      all.map((block) => block.id),
      { blobHTTPHeaders: { blobContentType: "application/json" } },
    );
    this.blocks = committed;
    this.tail = tail;
    const contentLength = all.reduce((sum, block) => sum + block.sizeInBytes, 0);
    return {
      events: this.blobCreatedEvents(response, contentLength, blob.url),
      blockCount: all.length,
      contentLength,
      eTag: response.etag ?? "",
    };
  }

  private blobCreatedEvents(
    response: BlockBlobCommitBlockListResponse,
    contentLength: number,
    url: string,
  ): BlobCreatedEvents {
    const eventTime = this.options.now();
    return buildBlobCreatedEvents({
      id: randomUUID(),
      subscriptionId: this.options.subscriptionId,
      resourceGroup: this.options.resourceGroup,
      accountName: this.container.accountName,
      containerName: this.container.containerName,
      blobName: this.blobName,
      eventTime,
      data: {
        api: "PutBlockList",
        clientRequestId: response.clientRequestId ?? randomUUID(),
        requestId: response.requestId ?? randomUUID(),
        eTag: response.etag ?? "",
        contentType: "application/json",
        contentLength,
        blobType: "BlockBlob",
        url,
        sequencer: nextSequencer(eventTime),
        storageDiagnostics: { batchId: randomUUID() },
      },
    });
  }
}

function headIfNew(blocks: readonly Block[]): string[] {
  return blocks.length === 0 ? [FLOW_LOG_HEAD] : [];
}

/** Block ids must all have the same length within a blob: base64 of a UUID (48 characters). */
function newBlockId(): string {
  return Buffer.from(randomUUID(), "utf8").toString("base64");
}

function recordText(record: FlowLogRecordInput, index: number): string {
  if (typeof record === "string") return record;
  const json = JSON.stringify(record) as string | undefined;
  if (json === undefined) throw new ValidationError(`record ${index} is not JSON-serialisable`);
  return json;
}
