/**
 * Registers live ingestion: the ingestBlob orchestration, the checkpoint entity, the
 * readBlockList/processRange/listBlobs activities, the BlobCreated Event Grid trigger and its HTTP
 * webhook variant, the reconcile timer, and the operators' checkpoint route. Settings and clients
 * are created lazily (loading the app never throws), once per process, and dropped when the app
 * terminates (the local host starts the app again with other settings).
 */
import { app } from "@azure/functions";
import * as df from "durable-functions";
import { makeListBlobs } from "../../activities/listBlobs";
import { makeProcessRange } from "../../activities/processRange";
import { makeReadBlockList } from "../../activities/readBlockList";
import { checkpointEntity } from "../../orchestrations/checkpoint";
import { ingestBlobOrchestrator } from "../../orchestrations/ingestBlob";
import { createBlobSource, type BlobSource } from "../adapters/blobSource";
import { createArmClients } from "../adapters/arm";
import { createEventHubsSink, type EventHubsSink } from "../adapters/eventHubsSink";
import { NicDirectory } from "../adapters/nicDirectory";
import {
  DEFAULT_RECONCILE_SCHEDULE,
  readEventSettings,
  readIngestionSettings,
  readSettings,
  type FlowtapSettings,
} from "../config";
import { ActivityNames, EntityNames, OrchestrationNames, TriggerNames } from "../contracts/names";
import { makeBlobCreatedEventGridHandler, makeBlobCreatedWebhookHandler } from "../triggers/blobCreated";
import { CHECKPOINT_ADMIN_ROUTE, makeCheckpointAdminHandler } from "../triggers/checkpointAdmin";
import { makeReconcileHandler } from "../triggers/reconcile";

let settings: FlowtapSettings | undefined;
let blobSource: BlobSource | undefined;
let flowsSink: EventHubsSink | undefined;
let nicDirectory: NicDirectory | undefined;

const settingsOf = (): FlowtapSettings => (settings ??= readSettings(process.env));
const blobSourceOf = (): BlobSource => (blobSource ??= createBlobSource(settingsOf().storage));
const flowsSinkOf = (): EventHubsSink => {
  if (!flowsSink) {
    const { eventHubs, ingestion } = settingsOf();
    const delayInMs = ingestion.eventHubsRetryDelayInMs;
    flowsSink = createEventHubsSink(eventHubs, {
      retryOptions: { retryDelayInMs: delayInMs, maxRetryDelayInMs: delayInMs * 30 },
      sendRetryOptions: { delayInMs, maxDelayInMs: delayInMs * 30 },
    });
  }
  return flowsSink;
};

/** Enrichment's cache of ARM's NICs (one per process), or undefined when FLOWTAP_ENRICHMENT=off. */
const nicDirectoryOf = (): NicDirectory | undefined => {
  const { enrichment } = settingsOf().events;
  if (!enrichment.enabled) return undefined;
  if (!nicDirectory) {
    const arm = createArmClients(settingsOf().capture.arm);
    nicDirectory = new NicDirectory({
      listNics: (subscriptionId) => arm.network(subscriptionId).networkInterfaces.listAll(),
      ttlInMs: enrichment.ttlInSeconds * 1000,
      maxEntries: enrichment.maxNics,
      waitInMs: enrichment.waitInMs,
    });
  }
  return nicDirectory;
};

// A bad ingestion setting stops the start, naming the setting (connections are read at first use).
app.hook.appStart(() => {
  readIngestionSettings(process.env);
  readEventSettings(process.env);
});

app.hook.appTerminate(async () => {
  const sink = flowsSink;
  settings = undefined;
  blobSource = undefined;
  flowsSink = undefined;
  nicDirectory = undefined;
  await sink?.close();
});

df.app.orchestration(OrchestrationNames.ingestBlob, ingestBlobOrchestrator);
df.app.entity(EntityNames.checkpoint, checkpointEntity);
const containersOf = (): readonly string[] => settingsOf().storage.containers;
df.app.activity(ActivityNames.readBlockList, {
  handler: makeReadBlockList({ blobSource: blobSourceOf, containers: containersOf }),
});
df.app.activity(ActivityNames.processRange, {
  handler: makeProcessRange({
    blobSource: blobSourceOf,
    containers: containersOf,
    sink: flowsSinkOf,
    partitionKey: () => settingsOf().eventHubs.partitionKey,
    rules: () => settingsOf().anomaly.rules,
    events: () => settingsOf().events,
    nicDirectory: nicDirectoryOf,
  }),
});
df.app.activity(ActivityNames.listBlobs, {
  handler: makeListBlobs({ blobSource: blobSourceOf, containers: containersOf }),
});

app.eventGrid(TriggerNames.blobCreatedEventGrid, {
  extraInputs: [df.input.durableClient()],
  handler: makeBlobCreatedEventGridHandler({ settings: settingsOf }),
});
app.http(TriggerNames.blobCreatedWebhook, {
  route: "blobCreated",
  methods: ["POST", "OPTIONS"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: makeBlobCreatedWebhookHandler({ settings: settingsOf }),
});
app.timer(TriggerNames.reconcileTimer, {
  // A trigger's schedule is fixed when the app loads (app settings are set by then); appStart validates it.
  schedule: process.env.FLOWTAP_RECONCILE_SCHEDULE?.trim() || DEFAULT_RECONCILE_SCHEDULE,
  extraInputs: [df.input.durableClient()],
  handler: makeReconcileHandler({ settings: settingsOf, blobSource: blobSourceOf }),
});
app.http(TriggerNames.checkpointAdminHttp, {
  route: CHECKPOINT_ADMIN_ROUTE,
  methods: ["GET", "POST"],
  authLevel: "admin",
  extraInputs: [df.input.durableClient()],
  handler: makeCheckpointAdminHandler({ settings: settingsOf, now: () => new Date() }),
});
