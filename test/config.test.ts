import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { NSG_CONTAINER, VNET_CONTAINER, readSecureWebhookSettings, readSettings } from "../src/config";

const minimal = {
  FlowLogsStorage:
    "DefaultEndpointsProtocol=http;AccountName=flowlogsacct;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/" +
    "flowlogsacct;",
  EventHubsConnection:
    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
};

describe("readSettings", () => {
  it("fills defaults around the two required connections", () => {
    const settings = readSettings(minimal);

    expect(settings.storage.accountName).toBe("flowlogsacct");
    expect(settings.storage.containers).toEqual([NSG_CONTAINER, VNET_CONTAINER]);
    expect(settings.eventHubs.partitionKey).toBe("mac");
    expect(settings.eventHubs.eventsPerMessage).toBe(1);
  });

  it("accepts identity-based connections and derives the account from the URI", () => {
    const settings = readSettings({
      FlowLogsStorage__blobServiceUri: "https://prodflowlogs.blob.core.windows.net",
      FlowLogsStorage__clientId: "00000000-0000-0000-0000-000000000001",
      EventHubsConnection__fullyQualifiedNamespace: "flowtap.servicebus.windows.net",
    });

    expect(settings.storage.connection).toEqual({
      kind: "identity",
      uri: "https://prodflowlogs.blob.core.windows.net",
      clientId: "00000000-0000-0000-0000-000000000001",
    });
    expect(settings.storage.accountName).toBe("prodflowlogs");
  });

  it.each([
    [{ EventHubsConnection: minimal.EventHubsConnection }, /FlowLogsStorage is missing/],
    [{ FlowLogsStorage: minimal.FlowLogsStorage }, /EventHubsConnection is missing/],
    [{ ...minimal, FLOWTAP_PARTITION_KEY: "random" }, /FLOWTAP_PARTITION_KEY must be one of mac, flowLog, none/],
    [{ ...minimal, FLOWTAP_MAX_RANGE_BYTES: "-1" }, /FLOWTAP_MAX_RANGE_BYTES must be a positive integer/],
    [{ ...minimal, FLOWTAP_CONTAINERS: "Bad_Name" }, /FLOWTAP_CONTAINERS must be a comma-separated list/],
  ])("refuses a bad setting with a message naming it (%#)", (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
});

describe("readSettings: message format", () => {
  it("sends plain JSON unless FLOWTAP_MESSAGE_FORMAT says compact (any case)", () => {
    expect(readSettings(minimal).eventHubs.messageFormat).toBe("json");
    expect(readSettings({ ...minimal, FLOWTAP_MESSAGE_FORMAT: "Compact" }).eventHubs.messageFormat).toBe("compact");
  });

  it.each([
    [{ FLOWTAP_MESSAGE_FORMAT: "gzip" }, /Setting FLOWTAP_MESSAGE_FORMAT must be one of json, compact, got 'gzip'/],
    [
      { FLOWTAP_MESSAGE_FORMAT: "compact", FLOWTAP_EVENT_SCHEMA_VERSION: "1" },
      /FLOWTAP_MESSAGE_FORMAT=compact carries schema 2 events only: set FLOWTAP_EVENT_SCHEMA_VERSION=2/,
    ],
  ])("refuses a bad message format with a message naming the settings (%#)", (settings, message) => {
    expect(() => readSettings({ ...minimal, ...settings })).toThrow(message);
  });
});

describe("readSettings: backfill", () => {
  it("has defaults that bound a backfill's range, parallelism and pages", () => {
    expect(readSettings(minimal).backfill).toEqual({
      maxHours: 744,
      defaultParallelBlobs: 8,
      maxParallelBlobs: 64,
      blobsPerPage: 100,
    });
  });

  it("reads every backfill setting", () => {
    const settings = readSettings({
      ...minimal,
      FLOWTAP_BACKFILL_MAX_HOURS: "168",
      FLOWTAP_BACKFILL_PARALLEL_BLOBS: "4",
      FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS: "16",
      FLOWTAP_BACKFILL_PAGE_BLOBS: "50",
    });
    expect(settings.backfill).toEqual({
      maxHours: 168,
      defaultParallelBlobs: 4,
      maxParallelBlobs: 16,
      blobsPerPage: 50,
    });
  });

  it.each([
    [{ ...minimal, FLOWTAP_BACKFILL_MAX_HOURS: "0" }, /FLOWTAP_BACKFILL_MAX_HOURS must be a positive integer/],
    [{ ...minimal, FLOWTAP_BACKFILL_PAGE_BLOBS: "many" }, /FLOWTAP_BACKFILL_PAGE_BLOBS must be a positive integer/],
    [
      { ...minimal, FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS: "2.5" },
      /FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS must be a positive integer/,
    ],
    [
      { ...minimal, FLOWTAP_BACKFILL_PARALLEL_BLOBS: "9", FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS: "8" },
      /FLOWTAP_BACKFILL_PARALLEL_BLOBS \(9\) must not exceed FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS \(8\)/,
    ],
  ])("refuses a bad backfill setting with a message naming it (%#)", (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
});

describe("readSettings: anomaly rules", () => {
  it("uses the default rules when neither FLOWTAP_RULES nor FLOWTAP_RULES_FILE is set", () => {
    expect(readSettings(minimal).anomaly.rules.map((rule) => rule.id)).toEqual([
      "denied-flood",
      "port-scan",
      "brute-force-ssh-rdp",
      "egress-bytes",
    ]);
  });

  it("reads rules from FLOWTAP_RULES and from FLOWTAP_RULES_FILE", () => {
    const rules = {
      rules: [
        {
          id: "scan",
          kind: "portScan",
          thresholds: { distinctPorts: 10 },
          windowInMinutes: 2,
          cooldownInMinutes: 5,
          capture: true,
        },
      ],
    };
    const file = path.join(mkdtempSync(path.join(tmpdir(), "flowtap-rules-")), "rules.json");
    writeFileSync(file, JSON.stringify(rules));

    const inline = readSettings({ ...minimal, FLOWTAP_RULES: JSON.stringify(rules) }).anomaly.rules;
    const fromFile = readSettings({ ...minimal, FLOWTAP_RULES_FILE: file }).anomaly.rules;

    expect(inline).toEqual([
      {
        id: "scan",
        kind: "portScan",
        thresholds: { distinctPorts: 10 },
        windowInMinutes: 2,
        cooldownInMinutes: 5,
        severity: 2,
        capture: true,
      },
    ]);
    expect(fromFile).toEqual(inline);
  });

  it.each([
    [{ ...minimal, FLOWTAP_RULES: "{" }, /Setting FLOWTAP_RULES is not valid JSON/],
    [
      {
        ...minimal,
        FLOWTAP_RULES:
          '{"rules":[{"id":"x","kind":"portScan","thresholds":{"ports":3},"windowInMinutes":1,"cooldownInMinutes":1}]}',
      },
      /Setting FLOWTAP_RULES: rules\[0\]\.thresholds\.ports is not a known setting/,
    ],
    [
      { ...minimal, FLOWTAP_RULES_FILE: "/nonexistent/rules.json" },
      /Setting FLOWTAP_RULES_FILE: cannot read '\/nonexistent\/rules.json'/,
    ],
    [
      { ...minimal, FLOWTAP_RULES: '{"rules":[]}', FLOWTAP_RULES_FILE: "/x.json" },
      /FLOWTAP_RULES and FLOWTAP_RULES_FILE are both set/,
    ],
  ])("refuses bad rules with a message naming the setting (%#)", (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
});

describe("readSettings: ARM and packet capture", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const policy = JSON.stringify({
    storage: {
      storageAccountId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/caps",
    },
  });

  it("defaults to public ARM with DefaultAzureCredential, the SDK's LRO interval and no capture policy", () => {
    expect(readSettings(minimal).capture).toEqual({
      arm: { endpoint: "https://management.azure.com", credential: { kind: "identity" }, retryDelayInMs: 1000 },
      pollIntervalInSeconds: 30,
      stopCapturesOnResolve: true,
    });
  });

  it("reads a local endpoint with its CA certificate (inline or file), the dev token, intervals and the policy", () => {
    const caFile = path.join(mkdtempSync(path.join(tmpdir(), "flowtap-ca-")), "ca.pem");
    writeFileSync(caFile, pem);
    const env = {
      ...minimal,
      FLOWTAP_ARM_ENDPOINT: "https://127.0.0.1:8443/",
      FLOWTAP_ARM_DEV_TOKEN: "dev",
      FLOWTAP_ARM_LRO_INTERVAL_MS: "10",
      FLOWTAP_ARM_RETRY_DELAY_MS: "5",
      FLOWTAP_CAPTURE_POLICY: policy,
      FLOWTAP_CAPTURE_POLL_INTERVAL_SECONDS: "15",
    };

    const inline = readSettings({ ...env, FLOWTAP_ARM_CA_CERT: pem }).capture;
    const fromFile = readSettings({ ...env, FLOWTAP_ARM_CA_CERT_FILE: caFile }).capture;

    expect(inline.arm).toEqual({
      endpoint: "https://127.0.0.1:8443",
      caCertificatePem: pem.trim(),
      credential: { kind: "devToken", token: "dev" },
      lroUpdateIntervalInMs: 10,
      retryDelayInMs: 5,
    });
    expect(fromFile.arm.caCertificatePem).toBe(pem);
    expect(inline.policy).toMatchObject({
      maxConcurrentCaptures: 2,
      storage: { storageAccountId: expect.stringContaining("/caps") },
    });
    expect(inline.pollIntervalInSeconds).toBe(15);
  });

  it("passes a user-assigned identity's client id to DefaultAzureCredential", () => {
    expect(
      readSettings({ ...minimal, FLOWTAP_ARM_CLIENT_ID: "00000000-0000-0000-0000-000000000002" }).capture.arm
        .credential,
    ).toEqual({
      kind: "identity",
      clientId: "00000000-0000-0000-0000-000000000002",
    });
  });

  it.each([
    [{ ...minimal, FLOWTAP_ARM_ENDPOINT: "http://127.0.0.1:8080" }, /FLOWTAP_ARM_ENDPOINT must be an https URL/],
    [{ ...minimal, FLOWTAP_ARM_DEV_TOKEN: "dev" }, /FLOWTAP_ARM_DEV_TOKEN is only for a loopback FLOWTAP_ARM_ENDPOINT/],
    [
      { ...minimal, FLOWTAP_ARM_ENDPOINT: "https://arm.contoso.com", FLOWTAP_ARM_DEV_TOKEN: "dev" },
      /FLOWTAP_ARM_DEV_TOKEN is only for a loopback/,
    ],
    [
      {
        ...minimal,
        FLOWTAP_ARM_ENDPOINT: "https://localhost:1",
        FLOWTAP_ARM_DEV_TOKEN: "d",
        FLOWTAP_ARM_CLIENT_ID: "c",
      },
      /FLOWTAP_ARM_DEV_TOKEN and FLOWTAP_ARM_CLIENT_ID are both set/,
    ],
    [{ ...minimal, FLOWTAP_ARM_CA_CERT: "not a pem" }, /FLOWTAP_ARM_CA_CERT must be a PEM certificate/],
    [{ ...minimal, FLOWTAP_ARM_CA_CERT_FILE: "/nonexistent/ca.pem" }, /FLOWTAP_ARM_CA_CERT_FILE: cannot read/],
    [{ ...minimal, FLOWTAP_ARM_LRO_INTERVAL_MS: "0" }, /FLOWTAP_ARM_LRO_INTERVAL_MS must be a positive integer/],
    [
      { ...minimal, FLOWTAP_CAPTURE_POLL_INTERVAL_SECONDS: "soon" },
      /FLOWTAP_CAPTURE_POLL_INTERVAL_SECONDS must be a positive integer/,
    ],
    [{ ...minimal, FLOWTAP_CAPTURE_POLICY: "[" }, /Setting FLOWTAP_CAPTURE_POLICY is not valid JSON/],
    [{ ...minimal, FLOWTAP_CAPTURE_POLICY: "{}" }, /Setting FLOWTAP_CAPTURE_POLICY\.storage must be an object/],
    [
      { ...minimal, FLOWTAP_CAPTURE_POLICY: policy.replace("{", '{"maxConcurrentCaptures":0,') },
      /Setting FLOWTAP_CAPTURE_POLICY\.maxConcurrentCaptures must be a positive integer/,
    ],
  ])("refuses a bad ARM or capture setting with a message naming it (%#)", (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
  it("reads the ingestion settings with their defaults", () => {
    expect(readSettings(minimal).ingestion).toEqual({
      maxRangeSizeInBytes: 4 * 1024 * 1024,
      reconcileSchedule: "0 */5 * * * *",
      rangesPerGeneration: 16,
      claimTtlInSeconds: 900,
      claimRetryInSeconds: 30,
      lingerInSeconds: 0,
      activityMaxAttempts: 5,
      activityRetryIntervalInMs: 5000,
      eventHubsRetryDelayInMs: 1000,
    });
    expect(
      readSettings({ ...minimal, FLOWTAP_RECONCILE_SCHEDULE: "30 */2 * * * *", FLOWTAP_INGEST_LINGER_SECONDS: "90" })
        .ingestion,
    ).toMatchObject({
      reconcileSchedule: "30 */2 * * * *",
      lingerInSeconds: 90,
    });
  });

  it.each([
    [
      { ...minimal, FLOWTAP_RECONCILE_SCHEDULE: "*/5 * * * *" },
      /FLOWTAP_RECONCILE_SCHEDULE must be an NCRONTAB expression of 6 fields/,
    ],
    [{ ...minimal, FLOWTAP_RANGES_PER_GENERATION: "0" }, /FLOWTAP_RANGES_PER_GENERATION must be a positive integer/],
    [{ ...minimal, FLOWTAP_CLAIM_TTL_SECONDS: "soon" }, /FLOWTAP_CLAIM_TTL_SECONDS must be a positive integer/],
    [{ ...minimal, FLOWTAP_CLAIM_RETRY_SECONDS: "-3" }, /FLOWTAP_CLAIM_RETRY_SECONDS must be a positive integer/],
    [{ ...minimal, FLOWTAP_INGEST_LINGER_SECONDS: "-1" }, /FLOWTAP_INGEST_LINGER_SECONDS must be an integer >= 0/],
    [{ ...minimal, FLOWTAP_ACTIVITY_MAX_ATTEMPTS: "1.5" }, /FLOWTAP_ACTIVITY_MAX_ATTEMPTS must be a positive integer/],
    [
      { ...minimal, FLOWTAP_ACTIVITY_RETRY_INTERVAL_MS: "0" },
      /FLOWTAP_ACTIVITY_RETRY_INTERVAL_MS must be a positive integer/,
    ],
    [
      { ...minimal, FLOWTAP_EVENTHUB_RETRY_DELAY_MS: "x" },
      /FLOWTAP_EVENTHUB_RETRY_DELAY_MS must be a positive integer/,
    ],
  ])("refuses a bad ingestion setting with a message naming it (%#)", (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
});

describe("readSecureWebhookSettings", () => {
  const tenant = "aaaabbbb-0000-cccc-1111-dddd2222eeee";

  it("is off without a tenant, and defaults the tenant's issuers and keys", () => {
    expect(readSecureWebhookSettings({})).toBeUndefined();
    expect(
      readSecureWebhookSettings({
        FLOWTAP_ALERTS_ENTRA_TENANT_ID: tenant,
        FLOWTAP_ALERTS_ENTRA_AUDIENCE: "api://flowtap, 11112222-bbbb-3333-cccc-4444dddd5555",
      }),
    ).toEqual({
      tenantId: tenant,
      audiences: ["api://flowtap", "11112222-bbbb-3333-cccc-4444dddd5555"],
      issuers: [`https://sts.windows.net/${tenant}/`, `https://login.microsoftonline.com/${tenant}/v2.0`],
      jwksUrl: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
    });
  });

  it.each([
    [{ FLOWTAP_ALERTS_ENTRA_TENANT_ID: tenant }, /FLOWTAP_ALERTS_ENTRA_AUDIENCE is missing/],
    [{ FLOWTAP_ALERTS_ENTRA_TENANT_ID: "a/b", FLOWTAP_ALERTS_ENTRA_AUDIENCE: "x" }, /must be a tenant id/],
    [
      {
        FLOWTAP_ALERTS_ENTRA_TENANT_ID: tenant,
        FLOWTAP_ALERTS_ENTRA_AUDIENCE: "x",
        FLOWTAP_ALERTS_ENTRA_JWKS_URL: "http://keys.example.com/keys",
      },
      /must be an https URL \(http only on loopback\)/,
    ],
  ])("refuses %j, naming the setting", (env, message) => {
    expect(() => readSecureWebhookSettings(env)).toThrow(message);
  });
});

/**
 * local.settings.json.example (for `func start`) holds settings the app accepts once its
 * placeholders are filled in: what docs/operations.md tells a user to copy.
 */
describe("local.settings.json.example", () => {
  it("is valid JSON whose Values, placeholders filled in, pass the app's validation", () => {
    // Prepare
    const text = readFileSync(path.join(__dirname, "../local.settings.json.example"), "utf8");
    const filled = text
      .replace("<flow-log storage account>", "flowlogs")
      .replace("<event hubs namespace>", "flowtap-ns")
      .replace("<subscription id>", "00000000-0000-0000-0000-000000000001")
      .replace("<resource group>", "rg-captures")
      .replace("<capture storage account>", "captures");
    const { Values: values } = JSON.parse(filled) as { Values: Record<string, string> };

    // Act
    const settings = readSettings(values);

    // Assess
    expect(values.FUNCTIONS_WORKER_RUNTIME).toBe("node");
    expect(settings.storage).toMatchObject({
      accountName: "flowlogs",
      connection: { kind: "identity", uri: "https://flowlogs.blob.core.windows.net" },
    });
    expect(settings.eventHubs).toMatchObject({
      eventHubName: "flows",
      alertsEventHubName: "alerts",
      connection: { kind: "identity", uri: "flowtap-ns.servicebus.windows.net" },
    });
    expect(settings.capture.policy?.storage.storageAccountId).toBe(
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-captures/providers/Microsoft.Storage/" +
        "storageAccounts/captures",
    );
  });
});
describe("readSettings: events", () => {
  it("writes schema 2 unless FLOWTAP_EVENT_SCHEMA_VERSION asks for schema 1", () => {
    expect(readSettings(minimal).events.schemaVersion).toBe(2);
    expect(readSettings({ ...minimal, FLOWTAP_EVENT_SCHEMA_VERSION: "1" }).events.schemaVersion).toBe(1);
  });

  it("reads the cost filters, dropping nothing by default", () => {
    expect(readSettings(minimal).events.filters).toEqual({ drop: [] });
    const filters = { drop: [{ reason: "denied", decision: "deny" }] };
    expect(readSettings({ ...minimal, FLOWTAP_EVENT_FILTERS: JSON.stringify(filters) }).events.filters).toEqual(
      filters,
    );
  });

  it.each([
    ["{drop:", /Setting FLOWTAP_EVENT_FILTERS is not valid JSON/],
    [
      '{"drop":[{"reason":"r","dstPorts":["x"]}]}',
      /Setting FLOWTAP_EVENT_FILTERS\.drop\[0\]\.dstPorts\[0\] must be a port/,
    ],
  ])("refuses bad filters naming the setting and the field (%#)", (text, message) => {
    expect(() => readSettings({ ...minimal, FLOWTAP_EVENT_FILTERS: text })).toThrow(message);
  });

  it("alerts a flow log silent for 15 minutes unless FLOWTAP_FLOW_LOG_SILENT_MINUTES says otherwise", () => {
    expect(readSettings(minimal).freshness.silentAfterSeconds).toBe(900);
    expect(readSettings({ ...minimal, FLOWTAP_FLOW_LOG_SILENT_MINUTES: "30" }).freshness.silentAfterSeconds).toBe(1800);
    expect(() => readSettings({ ...minimal, FLOWTAP_FLOW_LOG_SILENT_MINUTES: "0" })).toThrow(
      /Setting FLOWTAP_FLOW_LOG_SILENT_MINUTES must be a positive integer, got '0'/,
    );
  });

  it("refuses a schema version it cannot write, naming the setting", () => {
    expect(() => readSettings({ ...minimal, FLOWTAP_EVENT_SCHEMA_VERSION: "3" })).toThrow(
      /Setting FLOWTAP_EVENT_SCHEMA_VERSION must be one of 1, 2, got '3'/,
    );
  });
});

describe("readSettings: enrichment", () => {
  it("is on by default with its cache bounds, and can be turned off", () => {
    expect(readSettings(minimal).events.enrichment).toEqual({
      enabled: true,
      ttlInSeconds: 600,
      maxNics: 100_000,
      waitInMs: 1000,
    });
    expect(readSettings({ ...minimal, FLOWTAP_ENRICHMENT: "off" }).events.enrichment.enabled).toBe(false);
  });

  it.each([
    [{ FLOWTAP_ENRICHMENT: "maybe" }, /Setting FLOWTAP_ENRICHMENT must be one of on, off, got 'maybe'/],
    [{ FLOWTAP_ENRICHMENT_MAX_NICS: "0" }, /Setting FLOWTAP_ENRICHMENT_MAX_NICS must be a positive integer/],
    [{ FLOWTAP_ENRICHMENT_WAIT_MS: "-1" }, /Setting FLOWTAP_ENRICHMENT_WAIT_MS must be an integer >= 0/],
  ])("refuses a bad enrichment setting, naming it (%#)", (env, message) => {
    expect(() => readSettings({ ...minimal, ...env })).toThrow(message);
  });
});

describe("readSettings: sinks (FLOWTAP_SINKS)", () => {
  const logs = {
    FLOWTAP_LOGS_INGESTION_ENDPOINT: "https://dce-flowtap.westeurope-1.ingest.monitor.azure.com/",
    FLOWTAP_DCR_IMMUTABLE_ID: "dcr-0123456789abcdef0123456789abcdef",
  };

  it("sends to Event Hubs alone by default, and to Log Analytics with its DCR when asked", () => {
    expect(readSettings(minimal).sinks).toEqual({ choice: "eventhubs", eventHubs: true, logsIngestion: undefined });
    const both = readSettings({ ...minimal, ...logs, FLOWTAP_SINKS: "both" }).sinks;
    expect(both).toMatchObject({
      eventHubs: true,
      logsIngestion: {
        endpoint: "https://dce-flowtap.westeurope-1.ingest.monitor.azure.com",
        ruleId: logs.FLOWTAP_DCR_IMMUTABLE_ID,
        streamName: "Custom-FlowtapNetworkSession",
        credential: { kind: "identity" },
        retryDelayInMs: 1000,
      },
    });
    expect(both.logsIngestion?.alertsStreamName).toBe("Custom-FlowtapAlerts");
    const only = readSettings({ ...minimal, ...logs, FLOWTAP_SINKS: "LogAnalytics" }).sinks;
    expect(only).toMatchObject({ choice: "loganalytics", eventHubs: false });
  });

  it("sends alerts to FLOWTAP_DCR_ALERTS_STREAM, or not to Log Analytics at all with none", () => {
    const env = { ...minimal, ...logs, FLOWTAP_SINKS: "both" };

    const named = readSettings({ ...env, FLOWTAP_DCR_ALERTS_STREAM: "Custom-SocAlerts" }).sinks.logsIngestion;
    const none = readSettings({ ...env, FLOWTAP_DCR_ALERTS_STREAM: "None" }).sinks.logsIngestion;

    expect(named?.alertsStreamName).toBe("Custom-SocAlerts");
    expect(none?.alertsStreamName).toBeUndefined();
    expect(none?.streamName).toBe("Custom-FlowtapNetworkSession");
  });

  it.each([
    [{ FLOWTAP_SINKS: "kusto" }, /FLOWTAP_SINKS must be one of eventhubs, loganalytics, both, got 'kusto'/],
    [{ FLOWTAP_SINKS: "both" }, /FLOWTAP_LOGS_INGESTION_ENDPOINT must be the https logs ingestion URL/],
    [
      { ...logs, FLOWTAP_SINKS: "both", FLOWTAP_LOGS_INGESTION_ENDPOINT: "http://dce" },
      /FLOWTAP_LOGS_INGESTION_ENDPOINT/,
    ],
    [{ ...logs, FLOWTAP_SINKS: "both", FLOWTAP_DCR_IMMUTABLE_ID: "my-dcr" }, /FLOWTAP_DCR_IMMUTABLE_ID .*'my-dcr'/],
    [
      { ...logs, FLOWTAP_SINKS: "both", FLOWTAP_DCR_STREAM: "Microsoft-Syslog" },
      /FLOWTAP_DCR_STREAM must name a Custom-/,
    ],
    [{ ...logs, FLOWTAP_SINKS: "both", FLOWTAP_LOGS_INGESTION_DEV_TOKEN: "t" }, /only for a loopback/],
    [
      { ...logs, FLOWTAP_SINKS: "both", FLOWTAP_DCR_ALERTS_STREAM: "Alerts" },
      /FLOWTAP_DCR_ALERTS_STREAM must name a Custom- stream of the DCR \(or none\), got 'Alerts'/,
    ],
  ])("refuses %j naming the setting", (env, message) => {
    expect(() => readSettings({ ...minimal, ...env })).toThrow(message);
  });
});
