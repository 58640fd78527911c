/**
 * readBlockList: the committed block list of a blob (ids and sizes, in commit order), which the
 * ingestBlob orchestration plans its ranges from. Small JSON out: one entry per record block.
 */
import type { ActivityHandler } from "durable-functions";
import type { BlobSource } from "../src/adapters/blobSource";
import { ValidationError } from "../src/errors";
import type { ReadBlockListInput, ReadBlockListResult } from "../orchestrations/ingestBlob";

export interface ReadBlockListDeps {
  blobSource: () => BlobSource;
}

export function parseBlobLocationInput(input: unknown, activity: string): ReadBlockListInput {
  const location = input as Partial<ReadBlockListInput> | undefined;
  if (typeof location?.container !== "string" || location.container === "" || typeof location.path !== "string" || location.path === "") {
    throw new ValidationError(`${activity}: the input needs a container and a path, got ${JSON.stringify(input)}`);
  }
  return { container: location.container, path: location.path };
}

export function makeReadBlockList(deps: ReadBlockListDeps): ActivityHandler {
  return async (input: unknown): Promise<ReadBlockListResult> => {
    const { container, path } = parseBlobLocationInput(input, "readBlockList");
    const committed = await deps.blobSource().getCommittedBlocks(container, path);
    if (!committed) return { found: false, blocks: [] };
    return { found: true, blocks: committed.blocks.map((block) => ({ id: block.id, sizeInBytes: block.sizeInBytes })) };
  };
}
