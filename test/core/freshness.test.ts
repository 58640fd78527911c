import { describe, expect, it } from "vitest";
import {
  emptyFreshnessState,
  flowLogKeyOf,
  recordRange,
  reportFreshness,
  type FreshnessRecordInput,
  type FreshnessState,
} from "../../src/core/freshness";

const FLOW_LOG = flowLogKeyOf(
  "insights-logs-flowlogflowevent",
  "flowLogResourceID=/SUBSCRIPTIONS/S/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW" +
    "/FLOWLOGS/FL/y=2026/m=11/d=22/h=10/m=00/macAddress=000D3A000001/PT1H.json",
);
const SILENT_AFTER = { silentAfterSeconds: 600 };

function range(commitIso: string, lastTupleTimeIso: string | null, more: Partial<FreshnessRecordInput> = {}) {
  return {
    flowLog: FLOW_LOG,
    commitIso,
    lastTupleTimeIso,
    tuples: 10,
    events: 8,
    bytes: 1000,
    dropped: 2,
    droppedByReason: { denied: 2 },
    ...more,
  };
}

describe("flowLogKeyOf", () => {
  it("is the same for every NIC and hour of one flow log", () => {
    const other = flowLogKeyOf(
      "insights-logs-flowlogflowevent",
      "flowLogResourceID=/subscriptions/s/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network" +
        "/networkWatchers/NW/flowLogs/FL/y=2026/m=11/d=22/h=11/m=00/macAddress=000D3A000002/PT1H.json",
    );
    expect(other).toBe(FLOW_LOG);
  });
});

describe("freshness", () => {
  it("reports nothing for a flow log never seen writing", () => {
    expect(
      reportFreshness(emptyFreshnessState(FLOW_LOG), { nowIso: "2026-11-22T10:05:00.000Z", ...SILENT_AFTER }),
    ).toEqual({
      state: emptyFreshnessState(FLOW_LOG),
      events: [],
    });
  });

  it("reports the newest tuple and commit, the lag and the interval's counts, then starts a new interval", () => {
    // Prepare: two ranges, the second committed earlier with older tuples (a late retry).
    let state: FreshnessState = emptyFreshnessState(FLOW_LOG);
    state = recordRange(state, range("2026-11-22T10:02:00.000Z", "2026-11-22T10:01:30.500Z"));
    state = recordRange(
      state,
      range("2026-11-22T10:01:00.000Z", "2026-11-22T10:00:30.000Z", { droppedByReason: { x: 2 } }),
    );
    // Act
    const first = reportFreshness(state, { nowIso: "2026-11-22T10:05:00.000Z", ...SILENT_AFTER });
    const second = reportFreshness(first.state, { nowIso: "2026-11-22T10:10:00.000Z", ...SILENT_AFTER });
    // Assess
    expect(first.events).toEqual([
      expect.objectContaining({
        type: "flowtap.freshness",
        flowLog: FLOW_LOG,
        lastTupleTime: "2026-11-22T10:01:30.500Z",
        lastCommitTime: "2026-11-22T10:02:00.000Z",
        lagSeconds: 210,
        interval: {
          from: null,
          to: "2026-11-22T10:05:00.000Z",
          tuples: 20,
          events: 16,
          bytes: 2000,
          dropped: 4,
          droppedByReason: { denied: 2, x: 2 },
        },
      }),
    ]);
    expect(second.events).toEqual([
      expect.objectContaining({
        lagSeconds: 510,
        interval: {
          from: "2026-11-22T10:05:00.000Z",
          to: "2026-11-22T10:10:00.000Z",
          tuples: 0,
          events: 0,
          bytes: 0,
          dropped: 0,
          droppedByReason: {},
        },
      }),
    ]);
    expect(first.events[0]!.id).not.toBe(second.events[0]!.id);
  });

  it("alerts once when silent longer than allowed, and again only after it wrote and fell silent anew", () => {
    // Prepare
    const wrote = recordRange(
      emptyFreshnessState(FLOW_LOG),
      range("2026-11-22T10:00:00.000Z", "2026-11-22T09:59:40.000Z"),
    );
    const at = (state: FreshnessState, nowIso: string) => reportFreshness(state, { nowIso, ...SILENT_AFTER });
    // Act
    const quiet = at(wrote, "2026-11-22T10:10:00.000Z"); // exactly 10 minutes: not yet
    const silent = at(quiet.state, "2026-11-22T10:10:01.000Z");
    const stillSilent = at(silent.state, "2026-11-22T10:20:00.000Z");
    const resumed = recordRange(stillSilent.state, range("2026-11-22T10:21:00.000Z", "2026-11-22T10:20:50.000Z"));
    const silentAgain = at(resumed, "2026-11-22T10:40:00.000Z");
    // Assess
    const alertsOf = (report: { events: Array<{ type: string }> }) =>
      report.events.filter((event) => event.type === "flowtap.flowLogSilent");
    expect([quiet, silent, stillSilent, silentAgain].map((report) => alertsOf(report).length)).toEqual([0, 1, 0, 1]);
    expect(alertsOf(silent)[0]).toMatchObject({
      lastCommitTime: "2026-11-22T10:00:00.000Z",
      lastTupleTime: "2026-11-22T09:59:40.000Z",
      silentForSeconds: 601,
      silentAfterSeconds: 600,
    });
    expect(alertsOf(silentAgain)[0]).toMatchObject({
      lastCommitTime: "2026-11-22T10:21:00.000Z",
      silentForSeconds: 1140,
    });
  });
});
