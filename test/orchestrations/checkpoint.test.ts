/** The checkpoint entity's rules (pure functions the entity applies): claim, advance, release, reset. */
import { describe, expect, it } from "vitest";
import {
  digestBlockIds,
  EMPTY_BLOCK_IDS_DIGEST,
  INITIAL_BLOCK_CHECKPOINT,
  type BlockCheckpoint,
} from "../../src/core/blocks";
import { advance, claim, emptyCheckpointState, release, reset } from "../../orchestrations/checkpoint";
import { CheckpointState, checkpointEntityKey, ingestInstanceId } from "../../src/contracts/ingestionContracts";

const location = {
  container: "insights-logs-flowlogflowevent",
  path: "flowLogResourceID=/X/y=2026/m=11/d=22/h=10/m=00/macAddress=00AA/PT1H.json",
};
const start: CheckpointState = emptyCheckpointState(location);
const next: BlockCheckpoint = {
  blockCount: 2,
  byteOffset: 500,
  blockIdsDigest: digestBlockIds(EMPTY_BLOCK_IDS_DIGEST, ["a", "b"]),
};
const t0 = "2026-11-22T10:00:00.000Z";
const t1 = "2026-11-22T10:05:00.000Z";
const t2 = "2026-11-22T10:20:00.000Z";
const claimBy = (
  state: CheckpointState,
  owner: string,
  nowIso = t0,
  from: BlockCheckpoint = INITIAL_BLOCK_CHECKPOINT,
) => claim(state, { ...location, owner, from, nowIso, untilIso: "2026-11-22T10:15:00.000Z" });

describe("checkpoint entity", () => {
  it("grants a claim from the current position and refuses a second owner while it is live", () => {
    const first = claimBy(start, "live");
    const second = claimBy(first.state, "backfill", t1);

    expect(first.granted).toBe(true);
    expect(second).toMatchObject({ granted: false, reason: expect.stringMatching(/claimed by live until/) });
  });

  it("lets another owner claim once the claim expired (a crashed owner never blocks a blob)", () => {
    const held = claimBy(start, "live").state;

    expect(claimBy(held, "backfill", t2).granted).toBe(true);
  });

  it("refuses a claim from a position that is not the current one", () => {
    expect(claimBy(start, "live", t0, next)).toMatchObject({
      granted: false,
      reason: expect.stringMatching(/checkpoint is at 0 blocks/),
    });
  });

  it("advances by compare-and-set, drops the claim, and treats the same advance again as a no-op", () => {
    const held = claimBy(start, "live").state;
    const advanced = advance(held, { owner: "live", from: INITIAL_BLOCK_CHECKPOINT, to: next, events: 7, nowIso: t1 });
    const again = advance(advanced.state, {
      owner: "live",
      from: INITIAL_BLOCK_CHECKPOINT,
      to: next,
      events: 7,
      nowIso: t1,
    });

    expect(advanced.outcome).toBe("advanced");
    expect(advanced.state).toMatchObject({ ...next, eventsEmitted: 7, rangesCommitted: 1, claim: null });
    expect(again).toEqual({ outcome: "alreadyApplied", state: advanced.state });
  });

  it("refuses an advance from a stale position or against another owner's live claim", () => {
    const heldByBackfill = claimBy(start, "backfill").state;

    expect(
      advance(heldByBackfill, { owner: "live", from: INITIAL_BLOCK_CHECKPOINT, to: next, events: 1, nowIso: t1 })
        .outcome,
    ).toBe("refused");
    expect(
      advance(start, {
        owner: "live",
        from: next,
        to: { ...next, blockCount: 3, byteOffset: 600 },
        events: 1,
        nowIso: t1,
      }).outcome,
    ).toBe("refused");
  });

  it("refuses an advance that does not move forward", () => {
    expect(() =>
      advance(start, {
        owner: "live",
        from: INITIAL_BLOCK_CHECKPOINT,
        to: INITIAL_BLOCK_CHECKPOINT,
        events: 0,
        nowIso: t1,
      }),
    ).toThrow(/must move forward/);
  });

  it("releases only its owner's claim", () => {
    const held = claimBy(start, "live").state;

    expect(release(held, { owner: "backfill" }).claim?.owner).toBe("live");
    expect(release(held, { owner: "live" }).claim).toBeNull();
  });

  it("resets by compare-and-set for an owner, unconditionally for an operator", () => {
    const advanced = advance(claimBy(start, "live").state, {
      owner: "live",
      from: INITIAL_BLOCK_CHECKPOINT,
      to: next,
      events: 7,
      nowIso: t1,
    }).state;
    const heldByBackfill = claimBy(advanced, "backfill", t1, next).state;

    expect(
      reset(advanced, { reason: "rewritten", nowIso: t1, owner: "live", expected: INITIAL_BLOCK_CHECKPOINT }).applied,
    ).toBe(false);
    expect(reset(heldByBackfill, { reason: "rewritten", nowIso: t1, owner: "live", expected: next }).applied).toBe(
      false,
    );
    const operator = reset(heldByBackfill, { reason: "operator", nowIso: t1 });
    expect(operator.applied).toBe(true);
    expect(operator.state).toMatchObject({
      ...INITIAL_BLOCK_CHECKPOINT,
      claim: null,
      resets: 1,
      eventsEmitted: 7,
      lastReset: { reason: "operator", atIso: t1 },
    });
  });

  it("derives entity keys and instance ids without '/' and stable per blob", () => {
    expect(checkpointEntityKey(location)).toMatch(/^[0-9a-f]{16}$/);
    expect(ingestInstanceId(location)).toBe(`ingest-${checkpointEntityKey(location)}`);
    expect(checkpointEntityKey({ ...location, container: "insights-logs-networksecuritygroupflowevent" })).not.toBe(
      checkpointEntityKey(location),
    );
  });
});
