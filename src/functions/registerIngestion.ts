/**
 * Registers live ingestion: the ingestBlob orchestration, the checkpoint entity, the
 * readBlockList/processRange/listBlobs activities, the BlobCreated Event Grid trigger and its HTTP
 * webhook variant, the reconcile timer, and the operators' checkpoint route. Settings and clients
 * live in the process scope.
 */
import { app } from "@azure/functions";
import * as df from "durable-functions";
import { makeListBlobs } from "../../activities/listBlobs";
import { makeProcessRange } from "../../activities/processRange";
import { makeReadBlockList } from "../../activities/readBlockList";
import { checkpointEntity } from "../../orchestrations/checkpoint";
import { ingestBlobOrchestrator } from "../../orchestrations/ingestBlob";
import { createBlobSource, type BlobSource } from "../adapters/blobSource";
import { createArmClients, listAllNetworkInterfaces } from "../adapters/arm";
import { createEventHubsSink, type EventHubsSink } from "../adapters/eventHubsSink";
import { createLogsIngestionSink, type LogsIngestionSink } from "../adapters/logsIngestionSink";
import { NicDirectory } from "../adapters/nicDirectory";
import { DEFAULT_RECONCILE_SCHEDULE, readEventSettings, readIngestionSettings, readSinkSettings } from "../config";
import { ActivityNames, EntityNames, OrchestrationNames, TriggerNames } from "../contracts/names";
import { makeBlobCreatedEventGridHandler, makeBlobCreatedWebhookHandler } from "../triggers/blobCreated";
import { CHECKPOINT_ADMIN_ROUTE, makeCheckpointAdminHandler } from "../triggers/checkpointAdmin";
import { makeReconcileHandler } from "../triggers/reconcile";
import { perProcess, settingsOf } from "./processScope";

const blobSourceOf = perProcess((): BlobSource => createBlobSource(settingsOf().storage));
const flowsSinkOf = perProcess(
  (): EventHubsSink => {
    const { eventHubs, ingestion } = settingsOf();
    const delayInMs = ingestion.eventHubsRetryDelayInMs;
    return createEventHubsSink(eventHubs, {
      retryOptions: { retryDelayInMs: delayInMs, maxRetryDelayInMs: delayInMs * 30 },
      sendRetryOptions: { delayInMs, maxDelayInMs: delayInMs * 30 },
    });
  },
  (sink) => sink.close(),
);

/** The flows hub sink, unless FLOWTAP_SINKS is loganalytics. */
const eventHubsSinkOf = (): EventHubsSink | undefined => (settingsOf().sinks.eventHubs ? flowsSinkOf() : undefined);
const logsIngestionSinkOf = perProcess((): LogsIngestionSink | undefined => {
  const { logsIngestion } = settingsOf().sinks;
  return logsIngestion && createLogsIngestionSink(logsIngestion);
});

const nicCacheOf = perProcess((): NicDirectory => {
  const { enrichment } = settingsOf().events;
  const arm = createArmClients(settingsOf().capture.arm);
  return new NicDirectory({
    listNics: (subscriptionId) => listAllNetworkInterfaces(arm, subscriptionId),
    ttlInMs: enrichment.ttlInSeconds * 1000,
    maxEntries: enrichment.maxNics,
    waitInMs: enrichment.waitInMs,
  });
});
/** Enrichment's cache of ARM's NICs (one per process), or undefined when FLOWTAP_ENRICHMENT=off. */
const nicDirectoryOf = (): NicDirectory | undefined =>
  settingsOf().events.enrichment.enabled ? nicCacheOf() : undefined;

// A bad ingestion setting stops the start, naming the setting (connections are read at first use).
app.hook.appStart(() => {
  readIngestionSettings(process.env);
  readEventSettings(process.env);
  readSinkSettings(process.env);
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
    sink: eventHubsSinkOf,
    logsIngestionSink: logsIngestionSinkOf,
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
