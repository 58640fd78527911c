import { describe, expect, it } from "vitest";
import { NSG_CONTAINER, VNET_CONTAINER, readSettings } from "../src/config";

const minimal = {
  FlowLogsStorage: "DefaultEndpointsProtocol=http;AccountName=flowlogsacct;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/flowlogsacct;",
  EventHubsConnection: "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
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

describe("readSettings: backfill", () => {
  it("has defaults that bound a backfill's range, parallelism and pages", () => {
    expect(readSettings(minimal).backfill).toEqual({ maxHours: 744, defaultParallelBlobs: 8, maxParallelBlobs: 64, blobsPerPage: 100 });
  });

  it("reads every backfill setting", () => {
    const settings = readSettings({
      ...minimal,
      FLOWTAP_BACKFILL_MAX_HOURS: "168",
      FLOWTAP_BACKFILL_PARALLEL_BLOBS: "4",
      FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS: "16",
      FLOWTAP_BACKFILL_PAGE_BLOBS: "50",
    });
    expect(settings.backfill).toEqual({ maxHours: 168, defaultParallelBlobs: 4, maxParallelBlobs: 16, blobsPerPage: 50 });
  });

  it.each([
    [{ ...minimal, FLOWTAP_BACKFILL_MAX_HOURS: "0" }, /FLOWTAP_BACKFILL_MAX_HOURS must be a positive integer/],
    [{ ...minimal, FLOWTAP_BACKFILL_PAGE_BLOBS: "many" }, /FLOWTAP_BACKFILL_PAGE_BLOBS must be a positive integer/],
    [{ ...minimal, FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS: "2.5" }, /FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS must be a positive integer/],
    [{ ...minimal, FLOWTAP_BACKFILL_PARALLEL_BLOBS: "9", FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS: "8" }, /FLOWTAP_BACKFILL_PARALLEL_BLOBS \(9\) must not exceed FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS \(8\)/],
  ])("refuses a bad backfill setting with a message naming it (%#)", (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
});
