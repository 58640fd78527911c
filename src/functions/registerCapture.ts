/**
 * Registers anomaly response: the detector entity, the alerts publisher, the capture gate,
 * the packet capture orchestration with its ARM activities, publishEvents, and the Azure
 * Monitor webhook. Settings and clients live in the process scope.
 */
import { app, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { EntityContext } from "durable-functions";
import {
  makeCreatePacketCapture,
  makeDeletePacketCapture,
  makeGetPacketCaptureStatus,
  makeResolveCaptureTarget,
  makeStopPacketCapture,
  type PacketCaptureArmDeps,
} from "../../activities/packetCaptureArm";
import { makePublishEvents } from "../../activities/publishEvents";
import { captureGateEntity } from "../../orchestrations/captureGate";
import { captureStopEntity } from "../../orchestrations/captureStop";
import { makeDetectorEntity } from "../../orchestrations/detector";
import { packetCaptureOrchestrator } from "../../orchestrations/packetCapture";
import { publishAlertsOrchestrator, publishMonitorAlertOrchestrator } from "../../orchestrations/publishAlerts";
import { createArmClients, type ArmClients } from "../adapters/arm";
import { createEventHubsSink, type EventHubsSink } from "../adapters/eventHubsSink";
import { createAlertsLogsSink, type AlertsLogsSink } from "../adapters/logsIngestionSink";
import { makeComputerResolver } from "../adapters/virtualMachines";
import { readAnomalySettings, readCaptureSettings, readSecureWebhookSettings } from "../config";
import { makeSecureWebhookTokenCheck, type TokenCheck } from "../adapters/entraTokens";
import { logFailure } from "../logger";
import { ActivityNames, EntityNames, OrchestrationNames, TriggerNames } from "../contracts/names";
import { captureInputFromAlert, instanceExists, makeAlertsHttpHandler, startPacketCapture } from "../triggers/alerts";
import { alertsInstanceId, type AlertDispatch, type DetectorEntityState } from "../contracts/captureContracts";
import { makeStartCaptures } from "../../activities/startCaptures";
import { perProcess, settingsOf } from "./processScope";

const armDeps: PacketCaptureArmDeps = { arm: perProcess((): ArmClients => createArmClients(settingsOf().capture.arm)) };
const alertsSinkOf = perProcess(
  (): EventHubsSink => {
    const { eventHubs } = settingsOf();
    // Alerts travel one per message, whatever the flows hub's packing.
    return createEventHubsSink(
      { ...eventHubs, eventsPerMessage: 1, messageFormat: "json" },
      { eventHubName: eventHubs.alertsEventHubName },
    );
  },
  (sink) => sink.close(),
);
/** The alerts stream of Log Analytics, when FLOWTAP_SINKS includes it (and FLOWTAP_DCR_ALERTS_STREAM is not none). */
const alertsLogsSinkOf = perProcess((): AlertsLogsSink | undefined => {
  const { logsIngestion } = settingsOf().sinks;
  return logsIngestion && createAlertsLogsSink(logsIngestion);
});
/** The Secure Webhook token check (undefined: not configured), built once so jose's JWKS cache lives on. */
const tokenCheckOf = perProcess((): ((authorization: string | null) => Promise<TokenCheck>) | undefined => {
  const secure = readSecureWebhookSettings(process.env);
  return secure ? makeSecureWebhookTokenCheck(secure) : undefined;
});

// Rules, ARM and capture settings are validated when the app starts: a bad value stops the start with a message naming
// it.
app.hook.appStart(() => {
  readAnomalySettings(process.env);
  readCaptureSettings(process.env);
  readSecureWebhookSettings(process.env);
});

/**
 * The detector's hand-off (entities cannot start orchestrations in durable-functions 3.x, so the entity is
 * registered with a durable client). The real extension may run the entity's operation again after a crash before
 * its checkpoint (TaskEntityShim.cs), so this is idempotent: one publishAlerts instance per set of alerts, with an
 * id derived from them, never started again once it exists (running or finished: asked with getStatus); the
 * captures are requested by that orchestration (startCaptures), never from here.
 */
async function dispatchAlerts(context: EntityContext<DetectorEntityState>, dispatch: AlertDispatch): Promise<void> {
  const client = df.getClient(context);
  const instanceId = alertsInstanceId(dispatch);
  try {
    if (await instanceExists(client, instanceId)) return;
    await client.startNew(OrchestrationNames.publishAlerts, { instanceId, input: dispatch });
  } catch (error) {
    logFailure(`detector ${dispatch.detectorKey}: dispatching ${dispatch.alerts.length} alert(s)`, error);
    throw error;
  }
}

df.app.entity<DetectorEntityState>(EntityNames.detector, {
  // durable-functions awaits the handler's promise (Entity.js), though its type says void.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  handler: makeDetectorEntity({ rules: () => settingsOf().anomaly.rules, dispatchAlerts }),
  extraInputs: [df.input.durableClient()],
});
df.app.orchestration(OrchestrationNames.publishAlerts, publishAlertsOrchestrator);
df.app.orchestration(OrchestrationNames.publishMonitorAlert, publishMonitorAlertOrchestrator);
df.app.entity(EntityNames.captureGate, captureGateEntity);
df.app.entity(EntityNames.captureStop, captureStopEntity);
df.app.orchestration(OrchestrationNames.packetCapture, packetCaptureOrchestrator);

df.app.activity(ActivityNames.publishEvents, {
  handler: makePublishEvents({ sink: alertsSinkOf, logsSink: alertsLogsSinkOf }),
});
df.app.activity(ActivityNames.startCaptures, {
  handler: makeStartCaptures({
    startCapture: (alert, context) =>
      startPacketCapture(df.getClient(context), captureInputFromAlert(alert, settingsOf().capture, alert.time)),
  }),
  extraInputs: [df.input.durableClient()],
});
df.app.activity(ActivityNames.resolveCaptureTarget, { handler: makeResolveCaptureTarget(armDeps) });
df.app.activity(ActivityNames.createPacketCapture, { handler: makeCreatePacketCapture(armDeps) });
df.app.activity(ActivityNames.getPacketCaptureStatus, { handler: makeGetPacketCaptureStatus(armDeps) });
df.app.activity(ActivityNames.stopPacketCapture, { handler: makeStopPacketCapture(armDeps) });
df.app.activity(ActivityNames.deletePacketCapture, { handler: makeDeletePacketCapture(armDeps) });

const alertsDeps = {
  captureSettings: () => settingsOf().capture,
  client: (context: InvocationContext) => df.getClient(context),
  computerResolver: () => makeComputerResolver((subscriptionId) => armDeps.arm().listVirtualMachines(subscriptionId)),
};

app.http(TriggerNames.alertsHttp, {
  route: "alerts",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: makeAlertsHttpHandler(alertsDeps),
});

// Secure Webhook: anonymous for the host, as action groups send no function key; the handler checks the Entra token.
app.http(TriggerNames.alertsSecureHttp, {
  route: "alerts/secure",
  methods: ["POST"],
  authLevel: "anonymous",
  extraInputs: [df.input.durableClient()],
  handler: makeAlertsHttpHandler({
    ...alertsDeps,
    tokenCheck: tokenCheckOf,
  }),
});
