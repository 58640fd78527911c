/**
 * listBlobs: the flow-log blobs of a time range (and optional subscription, resource group, NSG,
 * flow-log and MAC filters), found by walking the container hierarchy one level at a time and
 * pruning with core/blobWalk, never by listing a whole account. Reconcile walks the current and
 * previous hour with `walkFlowLogBlobs`; backfill calls the activity.
 */
import type { ActivityHandler } from "durable-functions";
import type { BlobSource } from "../src/adapters/blobSource";
import { isBeforeCursor } from "../src/core/backfillProgress";
import { acceptsBlob, decidePrefix, validateBlobWalkFilter, type BlobWalkFilter } from "../src/core/blobWalk";
import { ValidationError } from "../src/errors";
import type { FlowLogBlob, ListBlobsInput, ListBlobsResult } from "../src/contracts/backfillContracts";

export interface WalkStats {
  /** Listing calls made (each is one or more pages of one level). */
  listings: number;
}

export interface ListBlobsDeps {
  blobSource: () => BlobSource;
  /** The configured flow-log containers (the only ones a walk may read). */
  containers: () => readonly string[];
}

/**
 * Every accepted PT1H.json blob under `container` in name order (depth first, children in listing
 * order), pruned level by level; with `afterPath`, only the blobs after it (subtrees before it are
 * not listed).
 */
export async function* walkFlowLogBlobs(
  source: BlobSource,
  container: string,
  filter: BlobWalkFilter,
  stats: WalkStats = { listings: 0 },
  afterPath?: string,
): AsyncGenerator<FlowLogBlob> {
  validateBlobWalkFilter(filter);
  // A stack of prefixes with their decision: hours are listed when popped, like any other level,
  // so blobs come out in name order (a paging cursor relies on it).
  const pending: { prefix: string; decision: "descend" | "listBlobs" }[] = [{ prefix: "", decision: "descend" }];
  while (pending.length > 0) {
    const { prefix, decision } = pending.pop()!;
    stats.listings++;
    if (decision === "listBlobs") {
      for await (const blob of source.listBlobs(container, prefix)) {
        if ((afterPath === undefined || blob.path > afterPath) && acceptsBlob(blob.path, filter))
          yield { container, path: blob.path, contentLength: blob.contentLength };
      }
      continue;
    }
    const children: { prefix: string; decision: "descend" | "listBlobs" }[] = [];
    for await (const child of source.listPrefixes(container, prefix)) {
      if (isBeforeCursor(child, afterPath)) continue;
      const childDecision = decidePrefix(child, filter);
      if (childDecision !== "skip") children.push({ prefix: child, decision: childDecision });
    }
    // Reversed onto the stack, so the depth-first walk visits children in listing (name) order.
    pending.push(...children.reverse());
  }
}

export function makeListBlobs(deps: ListBlobsDeps): ActivityHandler {
  return async (rawInput: unknown): Promise<ListBlobsResult> => {
    const input = rawInput as Partial<ListBlobsInput> | undefined;
    if (typeof input?.filter !== "object" || input.filter === null)
      throw new ValidationError("listBlobs: input.filter is required");
    const configured = deps.containers();
    const containers = input.containers ?? [...configured];
    const foreign = containers.find((container) => !configured.includes(container));
    if (foreign !== undefined)
      throw new ValidationError(
        `listBlobs: container '${foreign}' is not a configured flow-log container (${configured.join(", ")})`,
      );
    const page = input.page;
    if (page !== undefined && (!Number.isSafeInteger(page.maxBlobs) || page.maxBlobs < 1))
      throw new ValidationError("listBlobs: page.maxBlobs must be a positive integer");
    const start = page?.after ? containers.indexOf(page.after.container) : 0;
    if (start < 0)
      throw new ValidationError(
        `listBlobs: the cursor's container '${page?.after?.container}' is not among the listed containers`,
      );

    const stats: WalkStats = { listings: 0 };
    const result: ListBlobsResult = { blobs: [], count: 0, next: null, listings: 0 };
    let last: FlowLogBlob | undefined;
    for (let index = start; index < containers.length; index++) {
      const afterPath = index === start ? page?.after?.path : undefined;
      for await (const blob of walkFlowLogBlobs(
        deps.blobSource(),
        containers[index]!,
        input.filter,
        stats,
        afterPath,
      )) {
        if (page && result.count === page.maxBlobs) {
          // One blob past the page proves there is more: resume after the page's last one.
          result.next = { container: last!.container, path: last!.path };
          result.listings = stats.listings;
          return result;
        }
        result.count++;
        if (!page?.countOnly) result.blobs.push(blob);
        last = blob;
      }
    }
    result.listings = stats.listings;
    return result;
  };
}
