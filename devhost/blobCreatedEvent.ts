/**
 * `Microsoft.Storage.BlobCreated` events as Event Grid delivers them (design §4), in both the
 * Event Grid schema and the CloudEvents 1.0 envelope: what the local stand-ins hand to the
 * Event Grid trigger.
 */

export const BLOB_CREATED_EVENT_TYPE = "Microsoft.Storage.BlobCreated";

export type BlobCreatedApi = "PutBlockList" | "PutBlob" | "CopyBlob" | "FlushWithClose";

export interface BlobCreatedEventData {
  api: BlobCreatedApi;
  clientRequestId: string;
  requestId: string;
  eTag: string;
  contentType: string;
  contentLength: number;
  blobType: "BlockBlob";
  url: string;
  /** Orders the events of one blob by string comparison. */
  sequencer: string;
  storageDiagnostics: { batchId: string };
}

/** Event Grid schema envelope. */
export interface EventGridBlobCreatedEvent {
  id: string;
  /** `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{account}` */
  topic: string;
  /** `/blobServices/default/containers/{container}/blobs/{blob path}` */
  subject: string;
  eventType: typeof BLOB_CREATED_EVENT_TYPE;
  eventTime: string;
  dataVersion: string;
  metadataVersion: "1";
  data: BlobCreatedEventData;
}

/** CloudEvents 1.0 envelope (structured mode). */
export interface CloudEventBlobCreated {
  specversion: "1.0";
  type: typeof BLOB_CREATED_EVENT_TYPE;
  /** The storage account resource id (the Event Grid topic). */
  source: string;
  subject: string;
  id: string;
  time: string;
  datacontenttype: "application/json";
  data: BlobCreatedEventData;
}

export interface BlobCreatedEvents {
  eventGrid: EventGridBlobCreatedEvent;
  cloudEvent: CloudEventBlobCreated;
}

export interface BuildBlobCreatedEventsOptions {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  accountName: string;
  containerName: string;
  blobName: string;
  eventTime: Date;
  data: BlobCreatedEventData;
}

/** Both envelopes of one BlobCreated event (same id, subject and data). */
export function buildBlobCreatedEvents(options: BuildBlobCreatedEventsOptions): BlobCreatedEvents {
  const topic =
    `/subscriptions/${options.subscriptionId}/resourceGroups/${options.resourceGroup}` +
    `/providers/Microsoft.Storage/storageAccounts/${options.accountName}`;
  const subject = `/blobServices/default/containers/${options.containerName}/blobs/${options.blobName}`;
  const time = options.eventTime.toISOString();
  return {
    eventGrid: {
      id: options.id,
      topic,
      subject,
      eventType: BLOB_CREATED_EVENT_TYPE,
      eventTime: time,
      dataVersion: "",
      metadataVersion: "1",
      data: options.data,
    },
    cloudEvent: {
      specversion: "1.0",
      type: BLOB_CREATED_EVENT_TYPE,
      source: topic,
      subject,
      id: options.id,
      time,
      datacontenttype: "application/json",
      data: options.data,
    },
  };
}

const SEQUENCER_HEX_DIGITS = 32;
let lastSequencer = 0n;

/**
 * The next sequencer of this process: fixed-width hex (so string order = numeric order), seeded
 * from the clock so it keeps increasing across restarts of a local host.
 */
export function nextSequencer(now: Date = new Date()): string {
  const fromClock = BigInt(now.getTime()) << 20n;
  lastSequencer = fromClock > lastSequencer ? fromClock : lastSequencer + 1n;
  return lastSequencer.toString(16).padStart(SEQUENCER_HEX_DIGITS, "0");
}
