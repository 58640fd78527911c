/**
 * The backfill orchestration driven through the real durable-functions replay engine with histories shaped
 * as the Durable Functions extension writes them (its out-of-process shim replays every action of the
 * list, compound ones with all their children: test/conformance/durable/extensionModel.ts). The world
 * completes the children in a shuffled order and follows DurableTask's rules: a start of a running
 * instance is dropped, a start of a finished one runs it again. The old sliding window (Task.any over
 * tasks already yielded, azure-functions-durable-js #574) schedules children again here and hangs.
 */
import { describe, expect, it } from "vitest";
import { backfillOrchestrator } from "../../../orchestrations/backfillOrchestrator";
import { readIngestionSettings } from "../../../src/config";
import type { BackfillInput, BackfillSummary } from "../../../src/contracts/backfillContracts";
import { OrchestrationNames } from "../../../src/contracts/names";
import { emptyCounts } from "../../../src/core/backfillProgress";
import type { BlobLocation } from "../../../src/core/blobUrl";
import { historyEvents } from "../../../devhost/host/history";
import { ExtensionModel, orchestrationHandler } from "../../conformance/durable/extensionModel";

const BLOBS = 7;
const PARALLEL = 3;
/** The order in which running children finish: the earliest in this list among those running goes first. */
const COMPLETION_ORDER = [2, 0, 5, 1, 6, 3, 4];
const FAILING_BLOB = 4;
const START = new Date("2026-11-13T00:00:00Z");

const blobs: BlobLocation[] = Array.from({ length: BLOBS }, (_, i) => ({
  container: "insights-logs-flowlogflowevent",
  path: `flowLogResourceID=/SUB_RG/NW_FL/y=2026/m=11/d=13/h=0${i}/m=00/macAddress=000D3A000001/PT1H.json`,
}));
/** Distinct powers of ten: a result counted for the wrong blob (or twice) changes the sum. */
const eventsOf = (blob: number): number => 10 ** blob;

function backfillInput(): BackfillInput {
  return {
    request: {
      backfillId: "waves",
      from: "2026-11-13T00:00:00.000Z",
      to: "2026-11-13T07:00:00.000Z",
      storageAccount: "devstoreaccount1",
      containers: [blobs[0]!.container],
      filters: { subscriptionIds: [], resourceGroups: [], nsgNames: [], flowLogNames: [], macs: [] },
      maxParallelBlobs: PARALLEL,
    },
    blobsPerPage: BLOBS,
    ingestion: readIngestionSettings({}),
    run: {
      phase: "ingesting",
      startedAt: START.toISOString(),
      cursor: null,
      counts: { ...emptyCounts(), blobsTotal: BLOBS },
      failures: [],
      failuresNotListed: 0,
    },
  };
}

interface Child {
  blob: number;
  taskId: number;
  running: boolean;
}

/** Plays the world around the backfill until it ends or nothing more can happen. */
async function runInTheExtensionsWorld() {
  const handler = await orchestrationHandler(OrchestrationNames.backfill, backfillOrchestrator);
  const model = new ExtensionModel(handler, "backfill:waves", backfillInput(), START);
  const children = new Map<string, Child>();
  const starts = new Map<string, number>();
  let largestHistory = 0;
  for (;;) {
    const { state, shim } = await model.episode();
    largestHistory = Math.max(largestHistory, model.historyBytes());
    if (state.isDone || shim.continueAsNew) return { model, state, starts, largestHistory };
    let delivered = false;
    for (const decision of shim.newDecisions) {
      if (decision.kind === "activity") {
        delivered = true;
        const page = { blobs: blobs.map((b) => ({ ...b, contentLength: 1 })), count: BLOBS, next: null, listings: 1 };
        model.deliver(historyEvents.taskCompleted(model.now, decision.id, JSON.stringify(page)));
      } else if (decision.kind === "subOrchestration") {
        const id = decision.instanceId!;
        starts.set(id, (starts.get(id) ?? 0) + 1);
        const input = JSON.parse(decision.input!) as BlobLocation;
        const blob = blobs.findIndex((b) => b.path === input.path);
        // DurableTask drops the start of a running instance; a finished one runs again, for the new task.
        if (!children.get(id)?.running) children.set(id, { blob, taskId: decision.id, running: true });
      }
    }
    const next = [...children.values()]
      .filter((child) => child.running)
      .sort((a, b) => COMPLETION_ORDER.indexOf(a.blob) - COMPLETION_ORDER.indexOf(b.blob))[0];
    if (delivered) continue;
    if (!next) return { model, state, starts, largestHistory };
    next.running = false;
    model.now = new Date(model.now.getTime() + 1000);
    model.deliver(completionOf(next, model.now));
  }
}

function completionOf(child: Child, at: Date) {
  if (child.blob === FAILING_BLOB) {
    const reason = `Orchestrator function 'ingestBlob' failed: blob ${child.blob} is unreadable`;
    return historyEvents.subOrchestrationFailed(at, child.taskId, reason, "Message: unreadable");
  }
  const location = blobs[child.blob]!;
  const result = {
    ...location,
    outcome: "caughtUp",
    checkpoint: { lastBlockId: null, blockIndex: 0, offset: 0 },
    progress: { events: eventsOf(child.blob), bytes: 1, ranges: 1 },
  };
  return historyEvents.subOrchestrationCompleted(at, child.taskId, JSON.stringify(result));
}

describe("backfill waves under the extension's replay", () => {
  it("schedules each child once over all replays and counts each result for its own blob", async () => {
    const { model, state, starts, largestHistory } = await runInTheExtensionsWorld();

    const summary = state.output as BackfillSummary | undefined;
    console.log(
      `backfill waves: ${model.episodes} episodes, ${model.decisions.length} decisions, ` +
        `largest history ${largestHistory} bytes (${model.history.length} events)`,
    );
    expect([...starts.values()]).toEqual(Array.from({ length: BLOBS }, () => 1));
    expect(state.isDone).toBe(true);
    const expectedEvents = blobs.reduce((sum, _, i) => (i === FAILING_BLOB ? sum : sum + eventsOf(i)), 0);
    expect(summary).toMatchObject({
      blobsDone: BLOBS - 1,
      blobsFailed: 1,
      eventsSent: expectedEvents,
      failures: [{ path: blobs[FAILING_BLOB]!.path, reason: expect.stringContaining(`blob ${FAILING_BLOB}`) }],
    });
  });
});
