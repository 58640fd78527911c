/**
 * The app registers exactly these functions with these triggers and bindings, as the Functions
 * host would index them. Each area adds its functions here when it adds them to src/functions/.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost, type RegistrationSummary } from "../../devhost/host";

const none: Pick<RegistrationSummary, "extraInputTypes" | "extraOutputTypes"> = {
  extraInputTypes: [],
  extraOutputTypes: [],
};
const durableClient = { extraInputTypes: ["durableClient"], extraOutputTypes: [] };
const activity = (name: string): RegistrationSummary => ({ name, triggerType: "activityTrigger", ...none });
const orchestration = (name: string): RegistrationSummary => ({ name, triggerType: "orchestrationTrigger", ...none });
const entity = (name: string, inputs = none): RegistrationSummary => ({
  name,
  triggerType: "entityTrigger",
  ...inputs,
});
const http = (name: string, route: string, methods: string[], authLevel: string): RegistrationSummary => ({
  name,
  triggerType: "httpTrigger",
  ...durableClient,
  route,
  methods,
  authLevel,
});

const ingestion: RegistrationSummary[] = [
  orchestration("ingestBlob"),
  entity("checkpoint"),
  activity("readBlockList"),
  activity("processRange"),
  activity("listBlobs"),
  { name: "blobCreatedEventGrid", triggerType: "eventGridTrigger", ...durableClient },
  http("blobCreatedWebhook", "blobCreated", ["POST", "OPTIONS"], "function"),
  { name: "reconcileTimer", triggerType: "timerTrigger", ...durableClient, schedule: "0 */5 * * * *" },
  http("checkpointAdminHttp", "checkpoints/{container}/{*path}", ["GET", "POST"], "admin"),
];

const anomalyResponse: RegistrationSummary[] = [
  entity("detector", durableClient),
  orchestration("publishAlerts"),
  orchestration("publishMonitorAlert"),
  activity("publishEvents"),
  { ...activity("startCaptures"), ...durableClient },
  entity("captureGate"),
  entity("captureStop"),
  orchestration("packetCapture"),
  activity("resolveCaptureTarget"),
  activity("createPacketCapture"),
  activity("getPacketCaptureStatus"),
  activity("stopPacketCapture"),
  activity("deletePacketCapture"),
  http("alertsHttp", "alerts", ["POST"], "function"),
  http("alertsSecureHttp", "alerts/secure", ["POST"], "anonymous"),
];

const freshness: RegistrationSummary[] = [entity("freshness"), orchestration("reportFreshness")];

const backfill: RegistrationSummary[] = [
  orchestration("backfill"),
  http("backfillHttp", "backfill", ["POST"], "function"),
];

let host: LocalHost;
beforeAll(async () => {
  host = await startLocalHost({
    app: { modulePath: path.join(__dirname, "../../src/app.ts") },
    port: 0,
    clock: { mode: "virtual" },
    enableTimerTriggers: false,
  });
});
afterAll(() => host.stop());

describe("app registrations", () => {
  it("registers exactly the expected functions, triggers and bindings", () => {
    const expected = [...ingestion, ...anomalyResponse, ...freshness, ...backfill].sort((a, b) =>
      a.name.localeCompare(b.name),
    );

    expect(host.describeRegistrations()).toEqual(expected);
  });

  it("refuses to start with a bad ingestion setting, naming it", async () => {
    const start = startLocalHost({
      app: { modulePath: path.join(__dirname, "../../src/app.ts") },
      port: 0,
      settings: { FLOWTAP_CLAIM_TTL_SECONDS: "0" },
      enableTimerTriggers: false,
    });

    await expect(start).rejects.toThrow(/Setting FLOWTAP_CLAIM_TTL_SECONDS must be a positive integer, got '0'/);
  });

  it.each([
    [{ FLOWTAP_EVENT_FILTERS: '{"drop":[{"reason":"r"}]}' }, /Setting FLOWTAP_EVENT_FILTERS\.drop\[0\] must have/],
    [{ FLOWTAP_FLOW_LOG_SILENT_MINUTES: "-5" }, /Setting FLOWTAP_FLOW_LOG_SILENT_MINUTES must be a positive integer/],
  ])("refuses to start with a bad event or freshness setting, naming it (%#)", async (settings, message) => {
    const start = startLocalHost({
      app: { modulePath: path.join(__dirname, "../../src/app.ts") },
      port: 0,
      settings,
      enableTimerTriggers: false,
    });

    await expect(start).rejects.toThrow(message);
  });
});
