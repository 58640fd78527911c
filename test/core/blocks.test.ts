import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  digestBlockIds,
  EMPTY_BLOCK_IDS_DIGEST,
  INITIAL_BLOCK_CHECKPOINT,
  leadingSeparatorSizeInBytes,
  planNextRange,
  planWholeBlob,
  type BlockCheckpoint,
  type CommittedBlock,
  type PlannedRange,
} from "../../src/core/blocks";
import { FlowLogFormatError, ValidationError } from "../../src/errors";

const head: CommittedBlock = { id: "aGVhZA==", sizeInBytes: 12 };
const tail: CommittedBlock = { id: "dGFpbA==", sizeInBytes: 2 };
const record = (n: number, sizeInBytes: number): CommittedBlock => ({
  id: `rec${String(n).padStart(5, "0")}`,
  sizeInBytes,
});
const unlimited = { maxRangeSizeInBytes: Number.MAX_SAFE_INTEGER };

function expectRange(plan: ReturnType<typeof planNextRange>): PlannedRange {
  expect(plan.kind).toBe("range");
  return plan as PlannedRange;
}

describe("planNextRange", () => {
  it("plans every record block after the head and before the tail on a fresh blob", () => {
    // Prepare
    const blocks = [head, record(1, 100), record(2, 50), record(3, 70), tail];

    // Act
    const plan = expectRange(planNextRange(blocks, INITIAL_BLOCK_CHECKPOINT, unlimited));

    // Assess
    expect(plan).toMatchObject({
      offsetInBytes: 12,
      countInBytes: 220,
      firstBlockIndex: 1,
      blockCount: 3,
      firstRecordIndex: 0,
    });
    expect(plan.next).toEqual({
      blockCount: 4,
      byteOffset: 232,
      blockIdsDigest: digestBlockIds(
        EMPTY_BLOCK_IDS_DIGEST,
        blocks.slice(0, 4).map((b) => b.id),
      ),
    });
  });

  it("continues after the checkpoint with the blocks inserted before the tail", () => {
    const first = expectRange(planNextRange([head, record(1, 100), tail], INITIAL_BLOCK_CHECKPOINT, unlimited));

    const plan = expectRange(
      planNextRange([head, record(1, 100), record(2, 40), record(3, 30), tail], first.next, unlimited),
    );

    expect(plan).toMatchObject({
      offsetInBytes: 112,
      countInBytes: 70,
      firstBlockIndex: 2,
      blockCount: 2,
      firstRecordIndex: 1,
    });
    expect(plan.next.blockCount).toBe(4);
    expect(plan.next.byteOffset).toBe(182);
  });

  it("bounds a range by maxRangeSizeInBytes but always takes at least one block", () => {
    const blocks = [head, record(1, 500), record(2, 60), record(3, 30), tail];

    const oversized = expectRange(planNextRange(blocks, INITIAL_BLOCK_CHECKPOINT, { maxRangeSizeInBytes: 100 }));
    const rest = expectRange(planNextRange(blocks, oversized.next, { maxRangeSizeInBytes: 100 }));

    expect(oversized).toMatchObject({ firstBlockIndex: 1, blockCount: 1, countInBytes: 500 });
    expect(rest).toMatchObject({ firstBlockIndex: 2, blockCount: 2, countInBytes: 90, offsetInBytes: 512 });
  });

  it("bounds a range by maxBlockCount", () => {
    const blocks = [head, record(1, 10), record(2, 10), record(3, 10), tail];

    const plan = expectRange(planNextRange(blocks, INITIAL_BLOCK_CHECKPOINT, { ...unlimited, maxBlockCount: 2 }));

    expect(plan).toMatchObject({ firstBlockIndex: 1, blockCount: 2, countInBytes: 20 });
  });

  it("is caught up on an empty list, a head-only blob and a head-tail blob", () => {
    for (const blocks of [[], [head], [head, tail]]) {
      expect(planNextRange(blocks, INITIAL_BLOCK_CHECKPOINT, unlimited)).toEqual({
        kind: "caughtUp",
        checkpoint: INITIAL_BLOCK_CHECKPOINT,
      });
    }
  });

  it("is caught up once every record block is processed, with or without the tail", () => {
    const noTail = [head, record(1, 100), record(2, 40)];
    const done = expectRange(planNextRange(noTail, INITIAL_BLOCK_CHECKPOINT, unlimited));

    expect(done.blockCount).toBe(2);
    expect(planNextRange(noTail, done.next, unlimited)).toEqual({ kind: "caughtUp", checkpoint: done.next });
    expect(planNextRange([...noTail, tail], done.next, unlimited)).toEqual({ kind: "caughtUp", checkpoint: done.next });
  });

  it("holds back a last 2-byte block as the tail until another block follows it", () => {
    const tiny = record(2, 2);
    const first = expectRange(planNextRange([head, record(1, 100), tiny], INITIAL_BLOCK_CHECKPOINT, unlimited));

    const later = expectRange(planNextRange([head, record(1, 100), tiny, tail], first.next, unlimited));

    expect(first.blockCount).toBe(1);
    expect(later).toMatchObject({ firstBlockIndex: 2, blockCount: 1, countInBytes: 2 });
  });

  it("reports a rewrite when a processed block id changed", () => {
    const done = expectRange(planNextRange([head, record(1, 100), tail], INITIAL_BLOCK_CHECKPOINT, unlimited));

    const plan = planNextRange([head, { id: "other", sizeInBytes: 100 }, record(2, 5), tail], done.next, unlimited);

    expect(plan.kind).toBe("rewritten");
    expect(plan.kind === "rewritten" && plan.reason).toMatch(/ids of the first 2/);
  });

  it("reports a rewrite when the blob has fewer blocks than processed", () => {
    const done = expectRange(
      planNextRange([head, record(1, 100), record(2, 3), tail], INITIAL_BLOCK_CHECKPOINT, unlimited),
    );

    const plan = planNextRange([head, tail], done.next, unlimited);

    expect(plan.kind).toBe("rewritten");
    expect(plan.kind === "rewritten" && plan.reason).toMatch(/2 committed blocks, fewer than the 3/);
  });

  it("reports a rewrite when a processed block kept its id but changed size", () => {
    const done = expectRange(planNextRange([head, record(1, 100), tail], INITIAL_BLOCK_CHECKPOINT, unlimited));

    const plan = planNextRange([head, record(1, 99), record(2, 5), tail], done.next, unlimited);

    expect(plan.kind).toBe("rewritten");
  });

  it("refuses a blob whose block 0 is not the 12-byte head", () => {
    expect(() => planNextRange([record(1, 40), tail], INITIAL_BLOCK_CHECKPOINT, unlimited)).toThrow(FlowLogFormatError);
  });

  it("refuses bad options and checkpoints with a ValidationError", () => {
    const blocks = [head, record(1, 1), tail];
    expect(() => planNextRange(blocks, INITIAL_BLOCK_CHECKPOINT, { maxRangeSizeInBytes: 0 })).toThrow(ValidationError);
    expect(() => planNextRange(blocks, INITIAL_BLOCK_CHECKPOINT, { ...unlimited, maxBlockCount: 0 })).toThrow(
      /maxBlockCount/,
    );
    expect(() => planNextRange(blocks, { ...INITIAL_BLOCK_CHECKPOINT, blockCount: -1 }, unlimited)).toThrow(
      /blockCount/,
    );
    expect(() => planNextRange(blocks, { ...INITIAL_BLOCK_CHECKPOINT, blockIdsDigest: "x" }, unlimited)).toThrow(
      /blockIdsDigest/,
    );
  });
});

describe("digestBlockIds", () => {
  it("is incremental and separates ids unambiguously", () => {
    const whole = digestBlockIds(EMPTY_BLOCK_IDS_DIGEST, ["a", "bc", "d"]);

    expect(digestBlockIds(digestBlockIds(EMPTY_BLOCK_IDS_DIGEST, ["a"]), ["bc", "d"])).toBe(whole);
    expect(digestBlockIds(EMPTY_BLOCK_IDS_DIGEST, ["ab", "c", "d"])).not.toBe(whole);
    expect(whole).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("leadingSeparatorSizeInBytes", () => {
  it("skips the comma of every record block except the first record", () => {
    expect(leadingSeparatorSizeInBytes(1)).toBe(0);
    expect(leadingSeparatorSizeInBytes(2)).toBe(1);
  });
});

/** A blob as the service grows it: head, then record blocks appended (before the tail once it exists). */
const growthSteps = fc.array(
  fc.record({
    newRecordSizes: fc.array(fc.integer({ min: 3, max: 5_000 }), { maxLength: 6 }),
    tailAppears: fc.boolean(),
    limits: fc.record({
      maxRangeSizeInBytes: fc.integer({ min: 1, max: 12_000 }),
      maxBlockCount: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    }),
  }),
  { minLength: 1, maxLength: 12 },
);

function blobAfter(recordSizes: readonly number[], withTail: boolean): CommittedBlock[] {
  const records = recordSizes.map((size, i) => record(i + 1, size));
  return withTail ? [head, ...records, tail] : [head, ...records];
}

/** Plans until caught up; returns the ranges and the final checkpoint. */
function drain(
  blocks: readonly CommittedBlock[],
  start: BlockCheckpoint,
  limits: { maxRangeSizeInBytes: number; maxBlockCount?: number },
) {
  const ranges: PlannedRange[] = [];
  let checkpoint = start;
  for (;;) {
    const plan = planNextRange(blocks, checkpoint, limits);
    if (plan.kind === "caughtUp") return { ranges, checkpoint: plan.checkpoint };
    if (plan.kind === "rewritten") throw new Error(`unexpected rewrite: ${plan.reason}`);
    ranges.push(plan);
    checkpoint = plan.next;
  }
}

describe("planNextRange properties", () => {
  it("covers every record block exactly once, in order and contiguous, never the head or tail", () => {
    fc.assert(
      fc.property(growthSteps, (steps) => {
        const sizes: number[] = [];
        let withTail = false;
        let checkpoint = INITIAL_BLOCK_CHECKPOINT;
        const ranges: PlannedRange[] = [];
        for (const step of steps) {
          sizes.push(...step.newRecordSizes);
          withTail ||= step.tailAppears;
          const drained = drain(blobAfter(sizes, withTail), checkpoint, step.limits);
          ranges.push(...drained.ranges);
          checkpoint = drained.checkpoint;
        }

        const coveredBlocks = ranges.flatMap((r) =>
          Array.from({ length: r.blockCount }, (_, i) => r.firstBlockIndex + i),
        );
        expect(coveredBlocks).toEqual(sizes.map((_, i) => i + 1));
        let expectedOffset = 12;
        for (const range of ranges) {
          expect(range.offsetInBytes).toBe(expectedOffset);
          const blockBytes = sizes.slice(range.firstBlockIndex - 1, range.firstBlockIndex - 1 + range.blockCount);
          expect(range.countInBytes).toBe(blockBytes.reduce((a, b) => a + b, 0));
          expectedOffset += range.countInBytes;
        }
        expect(checkpoint.byteOffset).toBe(sizes.length === 0 ? 0 : expectedOffset);
      }),
      { numRuns: 300 },
    );
  });

  it("reports a rewrite when a processed id changes or the list shrinks below the checkpoint", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 3, max: 500 }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.boolean(),
        (sizes, pick, shrink) => {
          const blocks = blobAfter(sizes, true);
          const { checkpoint } = drain(blocks, INITIAL_BLOCK_CHECKPOINT, unlimited);
          const changed = shrink
            ? blocks.slice(0, pick % checkpoint.blockCount)
            : blocks.map((b, i) => (i === pick % checkpoint.blockCount ? { ...b, id: `${b.id}x` } : b));

          expect(planNextRange(changed, checkpoint, unlimited).kind).toBe("rewritten");
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("planWholeBlob (a blob without a block list)", () => {
  const blob = { etag: '"0x8DC1"', contentLength: 500 };

  it("plans the whole blob as one range, then is caught up on the same etag and length", () => {
    const plan = planWholeBlob(blob, INITIAL_BLOCK_CHECKPOINT);

    expect(plan).toMatchObject({ kind: "range", offsetInBytes: 0, countInBytes: 500, wholeBlobEtag: blob.etag });
    expect(planWholeBlob(blob, (plan as PlannedRange).next)).toMatchObject({ kind: "caughtUp" });
  });

  it("calls it rewritten after a new upload (etag or length changed) or after blocks were processed", () => {
    const done = (planWholeBlob(blob, INITIAL_BLOCK_CHECKPOINT) as PlannedRange).next;
    const byBlocks = (planNextRange([head, record(1, 40), tail], INITIAL_BLOCK_CHECKPOINT, unlimited) as PlannedRange)
      .next;

    expect(planWholeBlob({ ...blob, etag: '"0x8DC2"' }, done).kind).toBe("rewritten");
    expect(planWholeBlob({ ...blob, contentLength: 900 }, done).kind).toBe("rewritten");
    expect(planWholeBlob(blob, byBlocks).kind).toBe("rewritten");
    expect(planNextRange([head, record(1, 40), tail], done, unlimited).kind).toBe("rewritten");
  });
});
