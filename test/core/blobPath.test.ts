import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildBlobPath,
  NSG_FLOW_LOG_CONTAINER,
  parseBlobPath,
  tryParseBlobPath,
  VNET_FLOW_LOG_CONTAINER,
} from "../../src/core";
import { FlowLogFormatError } from "../../src/errors";

const NSG_PATH =
  "resourceId=/SUBSCRIPTIONS/1EBBA7BE-B058-4313-B9F7-E84105919D60/RESOURCEGROUPS/LOGSTASH-INPUT-AZURE_BLOB_STORAGE/" +
  "PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/UBUNTU-NSG/y=2020/m=12/d=15/h=20/m=00/macAddress=000D3A2CEE5A" +
  "/PT1H.json";

describe("parseBlobPath: NSG layouts", () => {
  it("parses a real path without its container", () => {
    expect(parseBlobPath(NSG_PATH)).toEqual({
      container: NSG_FLOW_LOG_CONTAINER,
      path: NSG_PATH,
      kind: "nsg",
      subscriptionId: "1EBBA7BE-B058-4313-B9F7-E84105919D60",
      resourceGroup: "LOGSTASH-INPUT-AZURE_BLOB_STORAGE",
      nsgName: "UBUNTU-NSG",
      networkWatcherName: null,
      flowLogName: null,
      year: 2020,
      month: 12,
      day: 15,
      hourOfDay: 20,
      hour: "2020-12-15T20:00:00.000Z",
      mac: "000D3A2CEE5A",
    });
  });

  it.each([
    ["with its container", `${NSG_FLOW_LOG_CONTAINER}/${NSG_PATH}`],
    ["with a leading /", `/${NSG_PATH}`],
    ["with a leading / and container", `/${NSG_FLOW_LOG_CONTAINER}/${NSG_PATH}`],
    [
      "as a blob URL with a SAS query",
      `https://acct.blob.core.windows.net/${NSG_FLOW_LOG_CONTAINER}/${NSG_PATH}?sv=2024&sig=x`,
    ],
    ["URL-encoded", `${NSG_FLOW_LOG_CONTAINER}/${NSG_PATH.replace("resourceId=", "resourceId%3D")}`],
  ])("parses it %s, giving the container-relative path", (_how, input) => {
    const parsed = parseBlobPath(input);
    expect(parsed).toMatchObject({
      container: NSG_FLOW_LOG_CONTAINER,
      path: NSG_PATH,
      nsgName: "UBUNTU-NSG",
      hourOfDay: 20,
    });
  });

  it("parses an older path without macAddress=", () => {
    const parsed = parseBlobPath(NSG_PATH.replace("/macAddress=000D3A2CEE5A", ""));
    expect(parsed).toMatchObject({ kind: "nsg", mac: null, hour: "2020-12-15T20:00:00.000Z" });
  });

  it("parses mixed case and the nsgpeek forms (no resourceId=, an unusable MAC)", () => {
    const parsed = parseBlobPath(
      "/subscriptions/xxxx/resourceGroups/yyyy/providers/microsoft.network/NETWORKSECURITYGROUPS/web-nsg/y=2022/m=05" +
        "/d=01/h=12/m=00/macAddress=abc/PT1H.json",
    );
    expect(parsed).toMatchObject({
      kind: "nsg",
      subscriptionId: "xxxx",
      resourceGroup: "yyyy",
      nsgName: "web-nsg",
      mac: null,
      hourOfDay: 12,
    });
  });

  it("parses the 2017 layout with an encoded = and no hour", () => {
    const parsed = parseBlobPath(
      `https://acct.blob.core.windows.net/${NSG_FLOW_LOG_CONTAINER}/resourceId%3D/subscriptions/s1/resourcegroups/` +
        `rg1/providers/microsoft.network/networksecuritygroups/nsg1/2017/02/16/PT1H.json`,
    );
    expect(parsed).toMatchObject({
      kind: "nsg",
      nsgName: "nsg1",
      year: 2017,
      month: 2,
      day: 16,
      hourOfDay: null,
      hour: "2017-02-16T00:00:00.000Z",
    });
  });
});

describe("parseBlobPath: VNet layouts", () => {
  it("parses the full ARM form", () => {
    const path =
      "flowLogResourceID=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/" +
      "NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/MYFLOWLOG/y=2025/m=01/d=02/h=03/m=00/macAddress=6045BDD6DD48" +
      "/PT1H.json";
    expect(parseBlobPath(`${VNET_FLOW_LOG_CONTAINER}/${path}`)).toMatchObject({
      container: VNET_FLOW_LOG_CONTAINER,
      path,
      kind: "vnet",
      subscriptionId: "S1",
      resourceGroup: "NETWORKWATCHERRG",
      nsgName: null,
      networkWatcherName: "NETWORKWATCHER_EASTUS",
      flowLogName: "MYFLOWLOG",
      hour: "2025-01-02T03:00:00.000Z",
      mac: "6045BDD6DD48",
    });
  });

  it("parses the underscore form seen in real blobs", () => {
    const path =
      "flowLogResourceID=/0A1B2C3D-0000-1111-2222-333344445555_NETWORKWATCHERRG/" +
      "NETWORKWATCHER_SWEDENCENTRAL_VNET-ALZ-VALIDATION-SWC-001-RG-ALZ-VALIDATION-NETWORK-SW-FLOWLOG/y=2026/m=08/" +
      "d=05/h=14/m=00/macAddress=7CED8D2684E5/PT1H.json";
    expect(parseBlobPath(path)).toMatchObject({
      container: VNET_FLOW_LOG_CONTAINER,
      kind: "vnet",
      subscriptionId: "0A1B2C3D-0000-1111-2222-333344445555",
      resourceGroup: "NETWORKWATCHERRG",
      networkWatcherName: "NETWORKWATCHER_SWEDENCENTRAL",
      flowLogName: "VNET-ALZ-VALIDATION-SWC-001-RG-ALZ-VALIDATION-NETWORK-SW-FLOWLOG",
      hourOfDay: 14,
    });
  });

  it("parses the underscore form with a custom watcher name", () => {
    expect(
      parseBlobPath("flowLogResourceID=/S1_RG_WITH_UNDERSCORES/MYWATCHER_MYLOG/y=2025/m=1/d=2/h=3/m=00/PT1H.json"),
    ).toMatchObject({
      resourceGroup: "RG_WITH_UNDERSCORES",
      networkWatcherName: "MYWATCHER",
      flowLogName: "MYLOG",
      mac: null,
    });
  });
});

describe("parseBlobPath: rejections", () => {
  it.each([
    ["a plain file", "data/PT1H.json"],
    [
      "another provider",
      "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM/y=2020/m=01/d=01/" +
        "h=00/m=00/PT1H.json",
    ],
    [
      "no time",
      "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N/PT1H.json",
    ],
    ["hour 24", NSG_PATH.replace("h=20", "h=24")],
    ["month 13", NSG_PATH.replace("m=12", "m=13")],
    ["another file name", NSG_PATH.replace("PT1H.json", "PT1H.txt")],
    ["extra segments", NSG_PATH.replace("PT1H.json", "x/PT1H.json")],
    ["an NSG log in the VNet container", `${VNET_FLOW_LOG_CONTAINER}/${NSG_PATH}`],
    ["bad URL encoding", "resourceId%3/x"],
    ["underscore form without underscores", "flowLogResourceID=/S1/W/y=2025/m=01/d=02/h=03/m=00/PT1H.json"],
  ])("rejects %s with a FlowLogFormatError quoting the path", (_why, input) => {
    expect(() => parseBlobPath(input)).toThrow(FlowLogFormatError);
    expect(() => parseBlobPath(input)).toThrow(input);
    expect(tryParseBlobPath(input)).toBeNull();
  });
});

describe("buildBlobPath", () => {
  it("builds the NSG path Azure writes", () => {
    const built = buildBlobPath({
      kind: "nsg",
      subscriptionId: "1ebba7be-b058-4313-b9f7-e84105919d60",
      resourceGroup: "logstash-input-azure_blob_storage",
      nsgName: "ubuntu-nsg",
      year: 2020,
      month: 12,
      day: 15,
      hourOfDay: 20,
      mac: "000d3a2cee5a",
    });
    expect(built).toBe(NSG_PATH);
  });

  it("builds both VNet forms, with the container on request", () => {
    const parts = {
      kind: "vnet" as const,
      subscriptionId: "s1",
      resourceGroup: "NetworkWatcherRG",
      networkWatcherName: "NetworkWatcher_eastus",
      flowLogName: "log1",
      year: 2025,
      month: 1,
      day: 2,
      hourOfDay: 3,
    };
    expect(buildBlobPath(parts)).toBe(
      "flowLogResourceID=/S1_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_LOG1/y=2025/m=01/d=02/h=03/m=00/PT1H.json",
    );
    expect(buildBlobPath(parts, { vnetLayout: "arm", includeContainer: true })).toBe(
      `${VNET_FLOW_LOG_CONTAINER}/flowLogResourceID=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/` +
        `MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/LOG1/y=2025/m=01/d=02/h=03/m=00/PT1H.json`,
    );
  });

  it("refuses parts that do not name the resource", () => {
    expect(() =>
      buildBlobPath({
        kind: "nsg",
        subscriptionId: "s",
        resourceGroup: "r",
        year: 2025,
        month: 1,
        day: 1,
        hourOfDay: 0,
      }),
    ).toThrow(/nsgName/);
    expect(() =>
      buildBlobPath({
        kind: "vnet",
        subscriptionId: "s",
        resourceGroup: "r",
        year: 2025,
        month: 1,
        day: 1,
        hourOfDay: 0,
      }),
    ).toThrow(/flowLogName/);
  });

  it("round-trips through parseBlobPath for any parts and layout", () => {
    const name = fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.constantFrom("nsg" as const, "vnet" as const),
          subscriptionId: fc.uuid().map((id) => id.toUpperCase()),
          resourceGroup: fc.stringMatching(/^[A-Z0-9][A-Z0-9_-]{0,20}$/),
          nsgName: name,
          region: fc.stringMatching(/^[A-Z0-9]{1,12}$/),
          flowLogName: name,
          year: fc.integer({ min: 2017, max: 2030 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 28 }),
          hourOfDay: fc.integer({ min: 0, max: 23 }),
          mac: fc.option(fc.stringMatching(/^[0-9A-F]{12}$/), { nil: null }),
        }),
        fc.constantFrom("underscore" as const, "arm" as const),
        (parts, vnetLayout) => {
          const input = { ...parts, networkWatcherName: `NETWORKWATCHER_${parts.region}` };
          const parsed = parseBlobPath(buildBlobPath(input, { vnetLayout, includeContainer: true }));
          expect(parsed).toMatchObject({
            kind: parts.kind,
            subscriptionId: parts.subscriptionId,
            resourceGroup: parts.resourceGroup,
            nsgName: parts.kind === "nsg" ? parts.nsgName : null,
            flowLogName: parts.kind === "vnet" ? parts.flowLogName : null,
            year: parts.year,
            month: parts.month,
            day: parts.day,
            hourOfDay: parts.hourOfDay,
            mac: parts.mac,
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
