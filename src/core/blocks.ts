/**
 * Block planning for flow-log blobs (design §2): which bytes of a `PT1H.json` block blob are new.
 *
 * The service writes the blob as committed blocks: block 0 is the 12-byte head `{"records":[`,
 * each following block is one record (prefixed with `,` except the first record), and the last
 * block is the 2-byte tail `]}`, kept last as record blocks are inserted before it. Reading by the
 * committed block list gives exact record boundaries; new data = the blocks after the processed
 * prefix, minus the tail. Pure: no SDK, no I/O.
 */
import { FlowLogFormatError, ValidationError } from "../errors";

/** One entry of a blob's committed block list, in commit order. */
export interface CommittedBlock {
  readonly id: string;
  readonly sizeInBytes: number;
}

/** How far a blob has been processed: a prefix of its committed block list. */
export interface BlockCheckpoint {
  /** Blocks processed, including the head block 0 (0 = nothing processed yet). */
  readonly blockCount: number;
  /** Bytes processed: the offset of the first unprocessed byte (the sum of the processed blocks' sizes). */
  readonly byteOffset: number;
  /** {@link digestBlockIds} over the ids of the processed blocks, to detect a rewritten blob. */
  readonly blockIdsDigest: string;
}

export interface PlanRangeOptions {
  /** Upper bound of one range; a range always holds at least one block, even one bigger than this. */
  maxRangeSizeInBytes: number;
  /** Optional upper bound on the number of record blocks in one range. */
  maxBlockCount?: number;
}

/** The next whole record blocks to read, and the checkpoint to commit once they are delivered. */
export interface PlannedRange {
  readonly kind: "range";
  readonly offsetInBytes: number;
  readonly countInBytes: number;
  /** Index of the first block of the range in the committed block list (>= 1: never the head). */
  readonly firstBlockIndex: number;
  readonly blockCount: number;
  /** Index of the first record of the range among the blob's records (= firstBlockIndex - 1). */
  readonly firstRecordIndex: number;
  readonly next: BlockCheckpoint;
  /**
   * Set when the range is a whole blob written without a block list (Put Blob): the blob at this
   * etag, read as one document (firstBlockIndex 0, one pseudo-block). See {@link planWholeBlob}.
   */
  readonly wholeBlobEtag?: string;
}

/** Nothing new: every record block is processed (the tail and a lone head are never records). */
export interface CaughtUp {
  readonly kind: "caughtUp";
  readonly checkpoint: BlockCheckpoint;
}

/** The blob no longer extends the checkpoint: processed blocks changed or disappeared. */
export interface Rewritten {
  readonly kind: "rewritten";
  readonly reason: string;
}

export type RangePlan = PlannedRange | CaughtUp | Rewritten;

/** The head block's text: the service commits it first, before any record. */
export const FLOW_LOG_HEAD = '{"records":[';
/** The tail block's text: the service keeps it last, after every record. */
export const FLOW_LOG_TAIL = "]}";
/** The 12-byte head block `{"records":[`. */
export const HEAD_BLOCK_SIZE_IN_BYTES = FLOW_LOG_HEAD.length;
/** The 2-byte tail block `]}`. */
export const TAIL_BLOCK_SIZE_IN_BYTES = FLOW_LOG_TAIL.length;

const FNV64_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const UINT64_MASK = 0xffffffffffffffffn;

/** The digest of no block ids: where every incremental digest starts. */
export const EMPTY_BLOCK_IDS_DIGEST = FNV64_OFFSET_BASIS.toString(16).padStart(16, "0");

/** The checkpoint of a blob of which nothing is processed yet. */
export const INITIAL_BLOCK_CHECKPOINT: BlockCheckpoint = Object.freeze({
  blockCount: 0,
  byteOffset: 0,
  blockIdsDigest: EMPTY_BLOCK_IDS_DIGEST,
});

/**
 * FNV-1a 64-bit over the ids, continuing from `previousDigest`, as 16 hex digits: so
 * `digestBlockIds(digestBlockIds(d, a), b) === digestBlockIds(d, [...a, ...b])`. Each id is hashed
 * as its length (4 bytes) followed by its UTF-16 code units, so id boundaries are unambiguous.
 */
export function digestBlockIds(previousDigest: string, ids: Iterable<string>): string {
  assertDigest(previousDigest);
  let hash = BigInt(`0x${previousDigest}`);
  const mix = (byte: number): void => {
    hash = ((hash ^ BigInt(byte)) * FNV64_PRIME) & UINT64_MASK;
  };
  for (const id of ids) {
    for (let shift = 24; shift >= 0; shift -= 8) mix((id.length >>> shift) & 0xff);
    for (let i = 0; i < id.length; i++) {
      const unit = id.charCodeAt(i);
      mix(unit >>> 8);
      mix(unit & 0xff);
    }
  }
  return hash.toString(16).padStart(16, "0");
}

/**
 * Bytes to skip at the start of a range so that it begins with a record's `{`: 1 for the
 * leading comma of every record block but the first record (block 1). The record parser also
 * accepts the leading comma, so skipping is optional.
 */
export function leadingSeparatorSizeInBytes(firstBlockIndex: number): number {
  return firstBlockIndex === 1 ? 0 : 1;
}

/**
 * Plans the next range of a blob from its committed block list and checkpoint. Returns
 * "rewritten" (never a silent skip) when the processed prefix no longer matches the list.
 * Throws ValidationError for a malformed checkpoint or options, FlowLogFormatError when block 0
 * is not the head.
 */
export function planNextRange(
  blocks: readonly CommittedBlock[],
  checkpoint: BlockCheckpoint,
  options: PlanRangeOptions,
): RangePlan {
  validateOptions(options);
  validateCheckpoint(checkpoint);

  if (blocks.length < checkpoint.blockCount) {
    return {
      kind: "rewritten",
      reason:
        `the blob has ${blocks.length} committed blocks, fewer than the ${checkpoint.blockCount} already ` +
        `processed`,
    };
  }
  const processed = blocks.slice(0, checkpoint.blockCount);
  const processedDigest = digestBlockIds(
    EMPTY_BLOCK_IDS_DIGEST,
    processed.map((block) => block.id),
  );
  if (processedDigest !== checkpoint.blockIdsDigest) {
    return {
      kind: "rewritten",
      reason:
        `the ids of the first ${checkpoint.blockCount} committed blocks changed ` +
        `(digest ${processedDigest}, checkpoint ${checkpoint.blockIdsDigest})`,
    };
  }
  const processedBytes = processed.reduce((sum, block) => sum + block.sizeInBytes, 0);
  if (processedBytes !== checkpoint.byteOffset) {
    return {
      kind: "rewritten",
      reason:
        `the first ${checkpoint.blockCount} committed blocks hold ${processedBytes} bytes, not ` +
        `the ${checkpoint.byteOffset} processed`,
    };
  }
  if (blocks.length === 0) return { kind: "caughtUp", checkpoint };

  const head = blocks[0];
  if (head.sizeInBytes !== HEAD_BLOCK_SIZE_IN_BYTES) {
    throw new FlowLogFormatError(
      `block 0 (id "${head.id}") is ${head.sizeInBytes} bytes, not the ${HEAD_BLOCK_SIZE_IN_BYTES}-byte head ` +
        `{"records":[ of a flow-log blob`,
    );
  }
  const recordBlocksEnd = endOfRecordBlocks(blocks);
  // The head is consumed together with the first record block, never alone.
  const firstBlockIndex = Math.max(checkpoint.blockCount, 1);
  if (firstBlockIndex >= recordBlocksEnd) return { kind: "caughtUp", checkpoint };

  const offsetInBytes = checkpoint.blockCount === 0 ? HEAD_BLOCK_SIZE_IN_BYTES : checkpoint.byteOffset;
  const maxBlockCount = options.maxBlockCount ?? Number.POSITIVE_INFINITY;
  let end = firstBlockIndex;
  let countInBytes = 0;
  while (end < recordBlocksEnd && end - firstBlockIndex < maxBlockCount) {
    const size = blocks[end].sizeInBytes;
    if (end > firstBlockIndex && countInBytes + size > options.maxRangeSizeInBytes) break;
    countInBytes += size;
    end++;
  }
  const rangeIds = blocks.slice(checkpoint.blockCount, end).map((block) => block.id);
  return {
    kind: "range",
    offsetInBytes,
    countInBytes,
    firstBlockIndex,
    blockCount: end - firstBlockIndex,
    firstRecordIndex: firstBlockIndex - 1,
    next: {
      blockCount: end,
      byteOffset: offsetInBytes + countInBytes,
      blockIdsDigest: digestBlockIds(checkpoint.blockIdsDigest, rangeIds),
    },
  };
}

/** A committed blob without a block list (Put Blob, or a copy tool): known by its etag and length. */
export interface WholeBlob {
  readonly etag: string;
  readonly contentLength: number;
}

/**
 * The one pseudo-block a blob without a block list counts as: its id names the blob's etag and
 * length, so the checkpoint after it (1 block, `contentLength` bytes, the digest of that id) no
 * longer matches once the blob is written again, whole or by blocks.
 */
export function wholeBlobBlock(blob: WholeBlob): CommittedBlock {
  return { id: `putBlob:${blob.etag}:${blob.contentLength}`, sizeInBytes: blob.contentLength };
}

/**
 * Plans a blob without a block list: the whole blob as one range from the initial checkpoint,
 * caught up once the checkpoint is that of this etag and length, and "rewritten" from any other
 * checkpoint (a later upload, or a blob once written by blocks), so it is reset and read again.
 */
export function planWholeBlob(blob: WholeBlob, checkpoint: BlockCheckpoint): RangePlan {
  validateCheckpoint(checkpoint);
  if (!Number.isSafeInteger(blob.contentLength) || blob.contentLength < 1 || blob.etag === "") {
    throw new ValidationError(
      `a whole blob needs an etag and a positive length, got etag "${blob.etag}" and ${blob.contentLength} bytes`,
    );
  }
  const block = wholeBlobBlock(blob);
  const next: BlockCheckpoint = {
    blockCount: 1,
    byteOffset: blob.contentLength,
    blockIdsDigest: digestBlockIds(EMPTY_BLOCK_IDS_DIGEST, [block.id]),
  };
  const sameAs = (other: BlockCheckpoint): boolean =>
    checkpoint.blockCount === other.blockCount &&
    checkpoint.byteOffset === other.byteOffset &&
    checkpoint.blockIdsDigest === other.blockIdsDigest;
  if (sameAs(next)) return { kind: "caughtUp", checkpoint };
  if (!sameAs(INITIAL_BLOCK_CHECKPOINT)) {
    return {
      kind: "rewritten",
      reason:
        `the blob was written whole (etag ${blob.etag}, ${blob.contentLength} bytes, no block list) ` +
        `after ${checkpoint.blockCount} blocks / ${checkpoint.byteOffset} bytes of it were processed`,
    };
  }
  return {
    kind: "range",
    offsetInBytes: 0,
    countInBytes: blob.contentLength,
    firstBlockIndex: 0,
    blockCount: 1,
    firstRecordIndex: 0,
    next,
    wholeBlobEtag: blob.etag,
  };
}

/** Index after the last record block: the tail (last, 2 bytes, after the head) is not a record. */
function endOfRecordBlocks(blocks: readonly CommittedBlock[]): number {
  const lastIndex = blocks.length - 1;
  const endsWithTail = lastIndex >= 1 && blocks[lastIndex].sizeInBytes === TAIL_BLOCK_SIZE_IN_BYTES;
  return endsWithTail ? lastIndex : blocks.length;
}

function validateOptions(options: PlanRangeOptions): void {
  if (!Number.isSafeInteger(options.maxRangeSizeInBytes) || options.maxRangeSizeInBytes < 1) {
    throw new ValidationError(`maxRangeSizeInBytes must be a positive integer, got ${options.maxRangeSizeInBytes}`);
  }
  const { maxBlockCount } = options;
  if (maxBlockCount !== undefined && (!Number.isSafeInteger(maxBlockCount) || maxBlockCount < 1)) {
    throw new ValidationError(`maxBlockCount must be a positive integer, got ${maxBlockCount}`);
  }
}

function validateCheckpoint(checkpoint: BlockCheckpoint): void {
  const { blockCount, byteOffset } = checkpoint;
  if (!Number.isSafeInteger(blockCount) || blockCount < 0) {
    throw new ValidationError(`checkpoint blockCount must be a non-negative integer, got ${blockCount}`);
  }
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) {
    throw new ValidationError(`checkpoint byteOffset must be a non-negative integer, got ${byteOffset}`);
  }
  assertDigest(checkpoint.blockIdsDigest);
}

function assertDigest(digest: string): void {
  if (!/^[0-9a-f]{16}$/.test(digest)) {
    throw new ValidationError(`blockIdsDigest "${digest}" is not 16 lowercase hex digits`);
  }
}
