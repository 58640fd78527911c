import { describe, expect, it } from "vitest";
import {
  describeProgress,
  isBeforeCursor,
  parseBackfillRequest,
  walkFilterOf,
  type BackfillFilters,
  type BackfillLimits,
} from "../../src/core/backfillProgress";
import { NSG_FLOW_LOG_CONTAINER, VNET_FLOW_LOG_CONTAINER } from "../../src/core/blobPath";

const LIMITS: BackfillLimits = {
  accountName: "flowlogsacct",
  containers: [NSG_FLOW_LOG_CONTAINER, VNET_FLOW_LOG_CONTAINER],
  maxHours: 744,
  defaultParallelBlobs: 8,
  maxParallelBlobs: 64,
};
const SUB = "6f1c2a3b-0000-4000-8000-00000000000a";
const NO_FILTERS: BackfillFilters = {
  subscriptionIds: [],
  resourceGroups: [],
  nsgNames: [],
  flowLogNames: [],
  macs: [],
};
const WEEK = { from: "2026-11-01T00:00:00Z", to: "2026-11-08T00:00:00Z" };

describe("parseBackfillRequest", () => {
  it("fills the configured account, containers and parallelism, and derives a stable id", () => {
    const request = parseBackfillRequest(WEEK, LIMITS);

    expect(request).toMatchObject({
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-08T00:00:00.000Z",
      storageAccount: "flowlogsacct",
      containers: [NSG_FLOW_LOG_CONTAINER, VNET_FLOW_LOG_CONTAINER],
      filters: NO_FILTERS,
      maxParallelBlobs: 8,
    });
    expect(request.backfillId).toMatch(/^backfill-[0-9a-f]{16}$/);
    expect(parseBackfillRequest({ ...WEEK, maxParallelBlobs: 2 }, LIMITS).backfillId).toBe(request.backfillId);
    expect(parseBackfillRequest({ ...WEEK, macs: ["00-0d-3a-00-00-01"] }, LIMITS).backfillId).not.toBe(
      request.backfillId,
    );
  });

  it("normalises filters, zones and names", () => {
    const request = parseBackfillRequest(
      {
        from: "2026-11-01T02:00+02:00",
        to: "2026-11-01T05:00:00.000Z",
        storageAccount: "FlowLogsAcct",
        containers: ["Insights-Logs-FlowLogFlowEvent", "insights-logs-flowlogflowevent"],
        subscriptionIds: [SUB.toUpperCase()],
        resourceGroups: ["rg-app"],
        nsgNames: ["nsg-web"],
        flowLogNames: ["fl-hub"],
        macs: ["00:0d:3a:00:00:01"],
        maxParallelBlobs: 64,
        backfillId: "nightly-2026-11-01",
      },
      LIMITS,
    );

    expect(request).toEqual({
      backfillId: "nightly-2026-11-01",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-01T05:00:00.000Z",
      storageAccount: "flowlogsacct",
      containers: [VNET_FLOW_LOG_CONTAINER],
      filters: {
        subscriptionIds: [SUB],
        resourceGroups: ["rg-app"],
        nsgNames: ["nsg-web"],
        flowLogNames: ["fl-hub"],
        macs: ["000D3A000001"],
      },
      maxParallelBlobs: 64,
    });
  });

  it.each([
    [[], /^body: expected a JSON object/],
    [{ ...WEEK, form: "x" }, /^form: unknown field/],
    [{ to: WEEK.to }, /^from: expected an ISO-8601 time/],
    [{ ...WEEK, from: "yesterday" }, /^from: 'yesterday' is not an ISO-8601 time with a zone/],
    [{ ...WEEK, from: "2026-11-01T00:00:00" }, /^from: .* with a zone/],
    [{ ...WEEK, from: "2026-02-30T00:00:00Z" }, /^from: '2026-02-30T00:00:00Z' is not a valid date/],
    [{ ...WEEK, from: "2026-11-01T00:30:00Z" }, /^from: .* not on a whole hour/],
    [{ ...WEEK, to: "2026-11-01T00:00:00+05:30" }, /^to: .* not on a whole hour/],
    [{ ...WEEK, to: WEEK.from }, /^to: must be after from/],
    [
      { from: "2026-10-01T00:00:00Z", to: "2026-11-02T00:00:00Z" },
      /^to: the range is 768 hours; at most 744 .*FLOWTAP_BACKFILL_MAX_HOURS/,
    ],
    [
      { ...WEEK, storageAccount: "otheracct" },
      /^storageAccount: "otheracct" is not the configured account 'flowlogsacct'/,
    ],
    [
      { ...WEEK, containers: ["insights-logs-other"] },
      /^containers\[0\]: "insights-logs-other" is not a configured container/,
    ],
    [{ ...WEEK, containers: [] }, /^containers: expected at least one container/],
    [{ ...WEEK, containers: NSG_FLOW_LOG_CONTAINER }, /^containers: expected an array/],
    [{ ...WEEK, subscriptionIds: ["not-a-guid"] }, /^subscriptionIds\[0\]: "not-a-guid" is not a subscription id/],
    [{ ...WEEK, resourceGroups: ["rg/../x"] }, /^resourceGroups\[0\]: .* is not a resource group name/],
    [{ ...WEEK, nsgNames: [""] }, /^nsgNames\[0\]: "" is not an NSG name/],
    [{ ...WEEK, flowLogNames: [42] }, /^flowLogNames\[0\]: 42 is not a flow-log name/],
    [{ ...WEEK, macs: ["00-0d-3a"] }, /^macs\[0\]: "00-0d-3a" is not a MAC address/],
    [{ ...WEEK, maxParallelBlobs: 0 }, /^maxParallelBlobs: expected an integer from 1 to 64, got 0/],
    [{ ...WEEK, maxParallelBlobs: 65 }, /^maxParallelBlobs: expected an integer from 1 to 64/],
    [{ ...WEEK, backfillId: "a/b" }, /^backfillId: "a\/b" must be 1-64 letters/],
  ])("refuses a bad request with a message naming the field (%#)", (body, message) => {
    expect(() => parseBackfillRequest(body, LIMITS)).toThrow(message);
  });
});

describe("walkFilterOf", () => {
  it("passes the request's hours and filters to the blob walk", () => {
    const request = parseBackfillRequest(
      { ...WEEK, subscriptionIds: [SUB], nsgNames: ["nsg-web"], macs: ["00-0d-3a-00-00-01"] },
      LIMITS,
    );

    expect(walkFilterOf(request)).toEqual({
      fromIso: "2026-11-01T00:00:00.000Z",
      toIso: "2026-11-08T00:00:00.000Z",
      subscriptionIds: [SUB],
      resourceGroups: [],
      nsgNames: ["nsg-web"],
      flowLogNames: [],
      macAddresses: ["000D3A000001"],
    });
  });
});

describe("isBeforeCursor", () => {
  it("skips only subtrees wholly before the cursor", () => {
    expect(isBeforeCursor("a/b/", "a/c/x")).toBe(true);
    expect(isBeforeCursor("a/c/", "a/c/x")).toBe(false);
    expect(isBeforeCursor("a/d/", "a/c/x")).toBe(false);
    expect(isBeforeCursor("NSG-1/", "NSG-10/x")).toBe(true);
    expect(isBeforeCursor("a/b/", null)).toBe(false);
  });
});

describe("describeProgress", () => {
  const identity = { backfillId: "b", ...WEEK };

  it("derives rates since the start and the eta from the blobs left", () => {
    const counts = { blobsTotal: 100, blobsDone: 20, blobsFailed: 5, eventsSent: 5000, bytesRead: 100_000 };
    const progress = describeProgress(
      counts,
      identity,
      "ingesting",
      "2026-11-22T10:00:00.000Z",
      "2026-11-22T10:00:50.000Z",
    );

    expect(progress).toMatchObject({
      ...counts,
      phase: "ingesting",
      startedAt: "2026-11-22T10:00:00.000Z",
      updatedAt: "2026-11-22T10:00:50.000Z",
    });
    expect(progress.rate).toEqual({ blobsPerSecond: 0.5, eventsPerSecond: 100, bytesPerSecond: 2000 });
    expect(progress.eta).toBe("2026-11-22T10:03:20.000Z");
  });

  it("has no eta before the first blob is done", () => {
    const progress = describeProgress(
      { blobsTotal: 10, blobsDone: 0, blobsFailed: 0, eventsSent: 0, bytesRead: 0 },
      identity,
      "ingesting",
      "2026-11-22T10:00:00.000Z",
      "2026-11-22T10:00:00.000Z",
    );
    expect(progress.eta).toBeNull();
    expect(progress.rate.blobsPerSecond).toBe(0);
  });
});
