/**
 * POST /api/backfill over real HTTP on the local host: function key, 400 naming the field, 202 status URLs, 409 for a
 * running id.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIAL_BLOCK_CHECKPOINT } from "../../src/core/blocks";
import type { LocalSystem } from "../../devhost/system";
import { EntityNames, OrchestrationNames } from "../../src/contracts/names";
import { startTestSystem } from "../scenarios/ingestion/helpers";
import { backfillInstanceId } from "../../src/contracts/backfillContracts";
import { postBackfill, topology, writeHours } from "../scenarios/backfill/helpers";
import { CheckpointOperations, ClaimInput, checkpointEntityKey } from "../../src/contracts/ingestionContracts";

const START = new Date("2026-11-22T10:30:00Z");
const RANGE = { from: "2026-11-14T00:00:00Z", to: "2026-11-14T01:00:00Z" };
let system: LocalSystem;

beforeAll(async () => {
  // A clock that only moves when told: a claim-retry timer holds a backfill running for the 409 case.
  system = await startTestSystem({
    clock: { mode: "virtual", startTime: START, autoAdvance: false },
    settings: { FLOWTAP_BACKFILL_MAX_HOURS: "48", FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS: "4" },
  });
});
afterAll(() => system.stop());

describe("POST /api/backfill", () => {
  it("needs the function key", async () => {
    expect((await postBackfill(system, RANGE, { key: null })).status).toBe(401);
    expect((await postBackfill(system, RANGE, { key: "wrong" })).status).toBe(401);
  });

  it.each([
    ["{not json", /^body: not JSON/],
    [[RANGE], /^body: expected a JSON object/],
    [{ ...RANGE, form: "x" }, /^form: unknown field/],
    [{ to: RANGE.to }, /^from: expected an ISO-8601 time/],
    [{ ...RANGE, from: "2026-11-14" }, /^from: '2026-11-14' is not an ISO-8601 time with a zone/],
    [{ ...RANGE, to: "2026-11-14T01:15:00Z" }, /^to: '2026-11-14T01:15:00Z' is not on a whole hour/],
    [{ ...RANGE, to: RANGE.from }, /^to: must be after from/],
    [
      { ...RANGE, to: "2026-11-17T00:00:00Z" },
      /^to: the range is 72 hours; at most 48 are accepted \(FLOWTAP_BACKFILL_MAX_HOURS\)/,
    ],
    [
      { ...RANGE, storageAccount: "someoneelse" },
      /^storageAccount: "someoneelse" is not the configured account 'devstoreaccount1'/,
    ],
    [
      { ...RANGE, containers: ["flowtap-quarantine"] },
      /^containers\[0\]: "flowtap-quarantine" is not a configured container/,
    ],
    [{ ...RANGE, subscriptionIds: ["sub-1"] }, /^subscriptionIds\[0\]: "sub-1" is not a subscription id/],
    [{ ...RANGE, resourceGroups: "rg-app-01" }, /^resourceGroups: expected an array/],
    [{ ...RANGE, nsgNames: ["nsg web"] }, /^nsgNames\[0\]: "nsg web" is not an NSG name/],
    [{ ...RANGE, flowLogNames: [null] }, /^flowLogNames\[0\]: null is not a flow-log name/],
    [{ ...RANGE, macs: ["00-0D-3A-ZZ-00-01"] }, /^macs\[0\]: "00-0D-3A-ZZ-00-01" is not a MAC address/],
    [{ ...RANGE, maxParallelBlobs: 5 }, /^maxParallelBlobs: expected an integer from 1 to 4, got 5/],
    [{ ...RANGE, backfillId: "a#b" }, /^backfillId: "a#b" must be 1-64 letters, digits, '\.', '_' or '-'/],
    [{ ...RANGE, backfillId: "week:1" }, /^backfillId: "week:1" must be 1-64 letters, digits, '\.', '_' or '-'/],
    [{ ...RANGE, backfillId: "b".repeat(65) }, /^backfillId: "b{65}" must be 1-64 letters/],
  ])("answers 400 naming the field (%#)", async (body, message) => {
    const answer = await postBackfill(system, body);

    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(message);
  });

  it("answers 202 with the status URLs, and 409 while the same backfillId runs", async () => {
    const [blob] = await writeHours(system, RANGE.from, RANGE.to, { nics: [topology.nics[0]!] });
    // Another owner holds the blob's range: the backfill's child waits on a claim-retry timer the clock never reaches.
    const hold: ClaimInput = {
      container: blob!.container,
      path: blob!.path,
      owner: "test-holder",
      from: INITIAL_BLOCK_CHECKPOINT,
      nowIso: START.toISOString(),
      untilIso: "2027-01-01T00:00:00.000Z",
    };
    await system.host.signalEntity(
      EntityNames.checkpoint,
      checkpointEntityKey(blob!),
      CheckpointOperations.claim,
      hold,
    );

    const first = await postBackfill(system, { ...RANGE, backfillId: "dup" });
    await system.host.waitForIdle();
    const second = await postBackfill(system, { ...RANGE, backfillId: "dup", maxParallelBlobs: 2 });
    const other = await postBackfill(system, { ...RANGE, backfillId: "other" });

    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      id: backfillInstanceId("dup"),
      statusQueryGetUri: expect.stringContaining("/runtime/webhooks/durabletask/instances/backfill:dup"),
      terminatePostUri: expect.any(String),
    });
    expect(system.host.getInstance(backfillInstanceId("dup"))).toMatchObject({
      name: OrchestrationNames.backfill,
      runtimeStatus: "Running",
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      error: "backfillId: backfill 'dup' is already running",
      statusQueryGetUri: first.body.statusQueryGetUri,
    });
    expect(other.status).toBe(202);

    const status = await fetch(first.body.statusQueryGetUri as string);
    expect(await status.json()).toMatchObject({
      runtimeStatus: "Running",
      customStatus: { backfillId: "dup", phase: "ingesting", blobsTotal: 1, blobsDone: 0 },
    });
    for (const id of [backfillInstanceId("dup"), backfillInstanceId("other")]) {
      const terminate = await fetch(
        `${system.host.baseUrl}/runtime/webhooks/durabletask/instances/${id}/terminate?reason=test&` +
          `code=${system.host.keys.system}`,
        { method: "POST" },
      );
      expect(terminate.status).toBe(202);
    }
    expect((await postBackfill(system, { ...RANGE, backfillId: "dup" })).status).toBe(202);
  });

  it("runs a caller's backfillId in the backfill namespace: it cannot name an instance of another kind", async () => {
    const captureLike = "capture-0123456789abcdef";

    const answer = await postBackfill(system, { ...RANGE, backfillId: captureLike });
    await system.host.waitForIdle();

    expect(answer.status).toBe(202);
    expect(answer.body.id).toBe(`backfill:${captureLike}`);
    expect(system.host.getInstance(captureLike)).toBeUndefined();
    expect(system.host.getInstance(`backfill:${captureLike}`)?.name).toBe(OrchestrationNames.backfill);
  });
});
