/**
 * The checkpoint entity, one per blob: how far the blob is delivered (a prefix of its committed
 * block list, core/blocks BlockCheckpoint) and who may deliver the next range. It is the
 * concurrency guard of design §3: a range is CLAIMED by an owner (an orchestration instance id)
 * only from the current position and only while no other owner's claim is live; the owner sends;
 * ADVANCE then commits by compare-and-set from that position (re-applying the same advance is a
 * no-op) and drops the claim. Live ingestion and backfill share it, so without crashes no range is
 * sent twice. Deterministic and without I/O: the caller passes the time.
 */
import type { EntityContext, EntityHandler } from "durable-functions";
import type { BlobLocation } from "../src/core/blobUrl";
import { INITIAL_BLOCK_CHECKPOINT, type BlockCheckpoint } from "../src/core/blocks";
import { ValidationError } from "../src/errors";
import {
  AdvanceInput,
  AdvanceResult,
  CheckpointOperations,
  CheckpointState,
  ClaimInput,
  ClaimResult,
  RangeClaim,
  ReleaseInput,
  ResetInput,
  ResetResult,
} from "../src/contracts/ingestionContracts";

export function samePosition(a: BlockCheckpoint, b: BlockCheckpoint): boolean {
  return a.blockCount === b.blockCount && a.byteOffset === b.byteOffset && a.blockIdsDigest === b.blockIdsDigest;
}

export function positionOf(state: BlockCheckpoint | null | undefined): BlockCheckpoint {
  if (!state) return INITIAL_BLOCK_CHECKPOINT;
  return { blockCount: state.blockCount, byteOffset: state.byteOffset, blockIdsDigest: state.blockIdsDigest };
}

/** The state of a blob's checkpoint before anything is delivered. */
export function emptyCheckpointState(location: BlobLocation): CheckpointState {
  return {
    container: location.container,
    path: location.path,
    ...INITIAL_BLOCK_CHECKPOINT,
    eventsEmitted: 0,
    rangesCommitted: 0,
    lastUpdatedIso: null,
    claim: null,
    lastAdvance: null,
    resets: 0,
    lastReset: null,
  };
}

function liveClaimOfAnother(state: CheckpointState, owner: string | undefined, nowIso: string): RangeClaim | undefined {
  const claim = state.claim;
  return claim && claim.owner !== owner && claim.untilIso > nowIso ? claim : undefined;
}

function describe(position: BlockCheckpoint): string {
  return `${position.blockCount} blocks / ${position.byteOffset} bytes`;
}

export function claim(state: CheckpointState, input: ClaimInput): ClaimResult {
  if (!samePosition(state, input.from)) {
    return { granted: false, reason: `the checkpoint is at ${describe(state)}, not at ${describe(input.from)}`, state };
  }
  const held = liveClaimOfAnother(state, input.owner, input.nowIso);
  if (held) return { granted: false, reason: `claimed by ${held.owner} until ${held.untilIso}`, state };
  return { granted: true, state: { ...state, claim: { owner: input.owner, untilIso: input.untilIso } } };
}

export function advance(state: CheckpointState, input: AdvanceInput): AdvanceResult {
  const last = state.lastAdvance;
  if (last && samePosition(state, input.to) && samePosition(last.from, input.from) && samePosition(last.to, input.to)) {
    return { outcome: "alreadyApplied", state };
  }
  if (!samePosition(state, input.from)) {
    return {
      outcome: "refused",
      reason: `the checkpoint is at ${describe(state)}, not at ${describe(input.from)}`,
      state,
    };
  }
  const held = liveClaimOfAnother(state, input.owner, input.nowIso);
  if (held) return { outcome: "refused", reason: `claimed by ${held.owner} until ${held.untilIso}`, state };
  if (input.to.blockCount <= input.from.blockCount || input.to.byteOffset <= input.from.byteOffset) {
    throw new ValidationError(
      `checkpoint advance must move forward: from ${describe(input.from)} to ${describe(input.to)}`,
    );
  }
  return {
    outcome: "advanced",
    state: {
      ...state,
      ...positionOf(input.to),
      eventsEmitted: state.eventsEmitted + input.events,
      rangesCommitted: state.rangesCommitted + 1,
      lastUpdatedIso: input.nowIso,
      claim: null,
      lastAdvance: { owner: input.owner, from: positionOf(input.from), to: positionOf(input.to) },
    },
  };
}

export function release(state: CheckpointState, input: ReleaseInput): CheckpointState {
  return state.claim?.owner === input.owner ? { ...state, claim: null } : state;
}

export function reset(state: CheckpointState, input: ResetInput): ResetResult {
  if (input.expected && !samePosition(state, input.expected)) {
    return {
      applied: false,
      reason: `the checkpoint is at ${describe(state)}, not at ${describe(input.expected)}`,
      state,
    };
  }
  const held = input.owner === undefined ? undefined : liveClaimOfAnother(state, input.owner, input.nowIso);
  if (held) return { applied: false, reason: `claimed by ${held.owner} until ${held.untilIso}`, state };
  return {
    applied: true,
    state: {
      ...state,
      ...INITIAL_BLOCK_CHECKPOINT,
      lastUpdatedIso: input.nowIso,
      claim: null,
      lastAdvance: null,
      resets: state.resets + 1,
      lastReset: { reason: input.reason, atIso: input.nowIso },
    },
  };
}

function inputOf<T>(context: EntityContext<CheckpointState>, required: readonly (keyof T & string)[]): T {
  const input = context.df.getInput<T>();
  const record = input as Record<string, unknown> | undefined;
  for (const field of required) {
    if (record?.[field] === undefined) {
      throw new ValidationError(
        `checkpoint ${context.df.entityKey} operation "${context.df.operationName}": input.${field} is missing`,
      );
    }
  }
  return input as T;
}

/** Operations: get (state or null), claim, advance, release, reset; see the types above. */
export const checkpointEntity: EntityHandler<CheckpointState> = (context: EntityContext<CheckpointState>) => {
  const existing = context.df.getState() ?? null;
  const operation = context.df.operationName;
  switch (operation) {
    case CheckpointOperations.get:
      context.df.return(existing);
      return;
    case CheckpointOperations.claim: {
      const input = inputOf<ClaimInput>(context, ["owner", "container", "path", "from", "nowIso", "untilIso"]);
      const result = claim(existing ?? emptyCheckpointState(input), input);
      if (result.granted) context.df.setState(result.state);
      context.df.return(result);
      return;
    }
    case CheckpointOperations.advance: {
      const input = inputOf<AdvanceInput>(context, ["owner", "from", "to", "events", "nowIso"]);
      if (!existing) throw new ValidationError(`checkpoint ${context.df.entityKey}: advance before any claim`);
      const result = advance(existing, input);
      if (result.outcome === "advanced") context.df.setState(result.state);
      context.df.return(result);
      return;
    }
    case CheckpointOperations.release: {
      const input = inputOf<ReleaseInput>(context, ["owner"]);
      if (existing) context.df.setState(release(existing, input));
      context.df.return(null);
      return;
    }
    case CheckpointOperations.reset: {
      const input = inputOf<ResetInput>(context, ["reason", "nowIso"]);
      if (!existing) {
        context.df.return(null);
        return;
      }
      const result = reset(existing, input);
      if (result.applied) context.df.setState(result.state);
      context.df.return(result);
      return;
    }
    default:
      throw new ValidationError(
        `checkpoint ${context.df.entityKey}: unknown operation "${operation}" (get, claim, advance, release, reset)`,
      );
  }
};
