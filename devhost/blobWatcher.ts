/**
 * Event Grid for the local storage: Azurite has no Event Grid, so this watcher polls the flow-log
 * containers (like the Blob change feed, it sees committed blobs only) and hands a
 * `Microsoft.Storage.BlobCreated` event to the app for each blob that is new or whose etag
 * changed since the last look. So a flow log that any client writes while `npm start` runs (the
 * SDK, azcopy, Storage Explorer) is picked up live, not only the blobs the demo writes.
 * Polling lists every blob of the containers: fine for a development account, and why the
 * deployed app relies on Event Grid instead (see devhost/README.md).
 */
import { randomUUID } from "node:crypto";
import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { FLOW_LOG_BLOB_NAME } from "../src/core/blobUrl";
import { logFailure } from "../src/logger";
import { buildBlobCreatedEvents, nextSequencer, type EventGridBlobCreatedEvent } from "./blobCreatedEvent";

export interface BlobWatcherOptions {
  blobService: BlobServiceClient;
  /** The flow-log containers the app reads. */
  containers: readonly string[];
  /** Hands events to the app's Event Grid trigger. */
  deliver: (events: EventGridBlobCreatedEvent[]) => Promise<void>;
  /** Pause between two looks (default 1000 ms). */
  intervalInMs?: number;
}

export interface BlobWatcher {
  /** Looks once now; resolves with the events delivered. */
  scan(): Promise<number>;
  stop(): Promise<void>;
}

const DEFAULT_INTERVAL_IN_MS = 1000;

/**
 * Starts watching. Blobs already there are taken as announced (the demo announced its own), so
 * only what changes from now on gets an event.
 */
export async function startBlobWatcher(options: BlobWatcherOptions): Promise<BlobWatcher> {
  const seen = new Map<string, string>();
  const look = async (announce: boolean): Promise<number> => {
    let delivered = 0;
    for (const name of options.containers) {
      const container = options.blobService.getContainerClient(name);
      if (!(await container.exists())) continue;
      for await (const blob of container.listBlobsFlat()) {
        const key = `${name}/${blob.name}`;
        const etag = blob.properties.etag ?? "";
        if (seen.get(key) === etag) continue;
        seen.set(key, etag);
        if (!announce || !blob.name.endsWith(`/${FLOW_LOG_BLOB_NAME}`)) continue;
        await options.deliver([await blobCreatedEvent(container, blob.name, etag, blob.properties.contentLength)]);
        delivered++;
      }
    }
    return delivered;
  };
  await look(false);
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const scan = (): Promise<number> => {
    const result = running.then(() => look(true));
    running = result.catch((error: unknown) => logFailure("blob watcher: a look at the storage failed", error));
    return result;
  };
  const timer = setInterval(() => {
    if (!stopped) void scan().catch(() => undefined);
  }, options.intervalInMs ?? DEFAULT_INTERVAL_IN_MS);
  timer.unref();
  return {
    scan,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** The event Event Grid sends for a committed blob: PutBlockList when it has a block list, else PutBlob. */
async function blobCreatedEvent(
  container: ContainerClient,
  blobName: string,
  etag: string,
  contentLength: number | undefined,
): Promise<EventGridBlobCreatedEvent> {
  const blob = container.getBlockBlobClient(blobName);
  const list = await blob.getBlockList("committed");
  const eventTime = new Date();
  const requestId = randomUUID();
  return buildBlobCreatedEvents({
    id: randomUUID(),
    subscriptionId: "00000000-0000-0000-0000-000000000000",
    resourceGroup: "flowtap-local",
    accountName: container.accountName,
    containerName: container.containerName,
    blobName,
    eventTime,
    data: {
      api: (list.committedBlocks ?? []).length > 0 ? "PutBlockList" : "PutBlob",
      clientRequestId: requestId,
      requestId,
      eTag: etag,
      contentType: "application/json",
      contentLength: contentLength ?? 0,
      blobType: "BlockBlob",
      url: blob.url,
      sequencer: nextSequencer(eventTime),
      storageDiagnostics: { batchId: randomUUID() },
    },
  }).eventGrid;
}
