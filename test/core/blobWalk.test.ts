import { describe, expect, it } from "vitest";
import { acceptsBlob, decidePrefix, recentHoursFilter, type BlobWalkFilter } from "../../src/core/blobWalk";

const NSG =
  "resourceId=/SUBSCRIPTIONS/11111111-1111-1111-1111-111111111111/RESOURCEGROUPS/RG-APP/PROVIDERS/MICROSOFT.NETWORK/" +
  "NETWORKSECURITYGROUPS/NSG-WEB";
const VNET_ARM =
  "flowLogResourceID=/SUBSCRIPTIONS/11111111-1111-1111-1111-111111111111/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/" +
  "MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/FL-APP";
const VNET_UNDERSCORE =
  "flowLogResourceID=/11111111-1111-1111-1111-111111111111_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_FL-APP";
const hours: BlobWalkFilter = { fromIso: "2026-11-22T09:00:00Z", toIso: "2026-11-22T11:00:00Z" };

describe("blob walk pruning", () => {
  it("descends the resource levels and the time levels that overlap the range, and lists an hour flat", () => {
    expect(decidePrefix("resourceId=/", hours)).toBe("descend");
    expect(decidePrefix(`${NSG}/`, hours)).toBe("descend");
    expect(decidePrefix(`${NSG}/y=2026/m=11/`, hours)).toBe("descend");
    expect(decidePrefix(`${NSG}/y=2026/m=11/d=22/h=10/`, hours)).toBe("listBlobs");
    expect(decidePrefix(`${VNET_UNDERSCORE}/y=2026/m=11/d=22/h=09/`, hours)).toBe("listBlobs");
  });

  it.each([
    ["another year", `${NSG}/y=2025/`],
    ["another month", `${NSG}/y=2026/m=10/`],
    ["another day", `${NSG}/y=2026/m=11/d=21/`],
    ["an hour before the range", `${NSG}/y=2026/m=11/d=22/h=08/`],
    ["the hour at the range's end", `${NSG}/y=2026/m=11/d=22/h=11/`],
    ["a folder that is no flow log", "insights-metrics/"],
  ])("skips %s", (_, prefix) => {
    expect(decidePrefix(prefix, hours)).toBe("skip");
  });

  it("applies subscription, resource group, NSG, flow-log and MAC filters on both VNet layouts", () => {
    const filter: BlobWalkFilter = { ...hours, resourceGroups: ["networkwatcherrg"], flowLogNames: ["fl-app"] };

    expect(decidePrefix(`${NSG}/`, filter)).toBe("skip"); // only flow logs were named
    expect(decidePrefix(`${VNET_ARM}/`, filter)).toBe("descend");
    expect(decidePrefix(`${VNET_UNDERSCORE}/`, filter)).toBe("descend");
    expect(decidePrefix(`${VNET_UNDERSCORE}/`, { ...filter, flowLogNames: ["fl-other"] })).toBe("skip");
    expect(
      decidePrefix("resourceId=/SUBSCRIPTIONS/22222222-2222-2222-2222-222222222222/", {
        ...hours,
        subscriptionIds: ["11111111-1111-1111-1111-111111111111"],
      }),
    ).toBe("skip");
  });

  it("accepts only PT1H.json blobs of the range that pass the filters", () => {
    const blob = `${NSG}/y=2026/m=11/d=22/h=10/m=00/macAddress=00-0D-3A-AA-BB-CC/PT1H.json`;

    expect(acceptsBlob(blob, hours)).toBe(true);
    expect(acceptsBlob(blob, { ...hours, macAddresses: ["000d3aaabbcc"] })).toBe(true);
    expect(acceptsBlob(blob, { ...hours, macAddresses: ["000D3AAABBCD"] })).toBe(false);
    expect(acceptsBlob(blob.replace("PT1H.json", "PT1H.json.tmp"), hours)).toBe(false);
    expect(
      acceptsBlob(`${NSG}/y=2026/m=11/d=22/h=10/m=00/PT1H.json`, { ...hours, macAddresses: ["000D3AAABBCC"] }),
    ).toBe(false);
  });

  it("covers the hour of an instant and the one before", () => {
    expect(recentHoursFilter(new Date("2026-11-22T10:37:12Z"), 2)).toEqual({
      fromIso: "2026-11-22T09:00:00.000Z",
      toIso: "2026-11-22T11:00:00.000Z",
    });
  });

  it("refuses a bad range or MAC naming the field", () => {
    expect(() => decidePrefix(`${NSG}/y=2026/`, { fromIso: "yesterday", toIso: hours.toIso })).toThrow(
      /fromIso 'yesterday'/,
    );
    expect(() => decidePrefix(`${NSG}/y=2026/`, { ...hours, toIso: hours.fromIso })).toThrow(/must be after fromIso/);
  });
});
