/**
 * Registers anomaly response: the detector entity, the alerts publisher, the capture gate,
 * the packet capture orchestration with its ARM activities, publishEvents, and the Azure
 * Monitor webhook. Settings and clients are created lazily, once per process, and dropped
 * when the app terminates (the local host starts the app again with other settings).
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
import { makeComputerResolver } from "../adapters/virtualMachines";
import {
  readAnomalySettings,
  readCaptureSettings,
  readSecureWebhookSettings,
  readSettings,
  type FlowtapSettings,
} from "../config";
import { makeSecureWebhookTokenCheck, type TokenCheck } from "../adapters/entraTokens";
// A generic 64-bit string hash despite its name: deterministic instance ids.
import { hashBlobPath as hash64 } from "../core/eventId";
import { logFailure } from "../logger";
import { ActivityNames, EntityNames, OrchestrationNames, TriggerNames } from "../contracts/names";
import { captureInputFromAlert, makeAlertsHttpHandler, startPacketCapture } from "../triggers/alerts";
import { AlertDispatch, DetectorEntityState } from "../contracts/captureContracts";

let settings: FlowtapSettings | undefined;
let arm: ArmClients | undefined;
let alertsSink: EventHubsSink | undefined;
/** The Secure Webhook token check (null: not configured), built once so jose's JWKS cache lives on. */
let tokenCheck: ((authorization: string | null) => Promise<TokenCheck>) | null | undefined;

const settingsOf = (): FlowtapSettings => (settings ??= readSettings(process.env));
const armDeps: PacketCaptureArmDeps = { arm: () => (arm ??= createArmClients(settingsOf().capture.arm)) };

// Rules, ARM and capture settings are validated when the app starts: a bad value stops the start with a message naming
// it.
app.hook.appStart(() => {
  readAnomalySettings(process.env);
  readCaptureSettings(process.env);
  readSecureWebhookSettings(process.env);
});

app.hook.appTerminate(async () => {
  const sink = alertsSink;
  settings = undefined;
  arm = undefined;
  alertsSink = undefined;
  tokenCheck = undefined;
  await sink?.close();
});

/**
 * The detector's hand-off (entities cannot start orchestrations in durable-functions 3.x, so
 * the entity is registered with a durable client): a publishAlerts instance whose id derives
 * from the alerts (a retried dispatch finds it), and a capture per alert that asks for one.
 */
async function dispatchAlerts(context: EntityContext<DetectorEntityState>, dispatch: AlertDispatch): Promise<void> {
  const client = df.getClient(context);
  try {
    const instanceId = `alerts-${hash64(dispatch.alerts.map((alert) => alert.id).join(","))}`;
    await client
      .startNew(OrchestrationNames.publishAlerts, { instanceId, input: dispatch })
      .catch(async (error: unknown) => {
        // Already started by an earlier attempt of this dispatch: nothing to do.
        const status = await client.getStatus(instanceId).catch(() => undefined);
        if (!status) throw error;
      });
    const captureSettings = settingsOf().capture;
    for (const alert of dispatch.alerts) {
      if (alert.capture.requested && !alert.historic)
        await startPacketCapture(client, captureInputFromAlert(alert, captureSettings, alert.time));
    }
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
  handler: makePublishEvents({
    sink: () => {
      const { eventHubs } = settingsOf();
      // Alerts travel one per message, whatever the flows hub's packing.
      return (alertsSink ??= createEventHubsSink(
        { ...eventHubs, eventsPerMessage: 1 },
        { eventHubName: eventHubs.alertsEventHubName },
      ));
    },
  }),
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
    tokenCheck: () => {
      if (tokenCheck === undefined) {
        const secure = readSecureWebhookSettings(process.env);
        tokenCheck = secure ? makeSecureWebhookTokenCheck(secure) : null;
      }
      return tokenCheck ?? undefined;
    },
  }),
});
