/**
 * readBlockList: the committed block list of a blob (ids and sizes, in commit order), which the
 * ingestBlob orchestration plans its ranges from. Small JSON out: one entry per record block.
 */
import type { ActivityHandler } from "durable-functions";
import type { BlobSource } from "../src/adapters/blobSource";
import { ValidationError } from "../src/errors";
import { ReadBlockListInput, ReadBlockListResult } from "../src/contracts/ingestionContracts";

export interface ReadBlockListDeps {
  blobSource: () => BlobSource;
  /** The configured flow-log containers: the only ones it reads (the app always passes them). */
  containers?: () => readonly string[];
}

/** The blob an activity is asked about; refused unless it is in one of `containers` (when given). */
export function parseBlobLocationInput(
  input: unknown,
  activity: string,
  containers: readonly string[] | undefined,
): ReadBlockListInput {
  const location = input as Partial<ReadBlockListInput> | undefined;
  if (
    typeof location?.container !== "string" ||
    location.container === "" ||
    typeof location.path !== "string" ||
    location.path === ""
  ) {
    throw new ValidationError(`${activity}: the input needs a container and a path, got ${JSON.stringify(input)}`);
  }
  if (containers !== undefined && !containers.includes(location.container)) {
    throw new ValidationError(
      `${activity}: container '${location.container}' is not a configured flow-log container ` +
        `(${containers.join(", ")})`,
    );
  }
  return { container: location.container, path: location.path };
}

export function makeReadBlockList(deps: ReadBlockListDeps): ActivityHandler {
  return async (input: unknown): Promise<ReadBlockListResult> => {
    const { container, path } = parseBlobLocationInput(input, "readBlockList", deps.containers?.());
    const committed = await deps.blobSource().getCommittedBlocks(container, path);
    if (!committed) return { found: false, blocks: [], contentLength: 0, etag: "" };
    return {
      found: true,
      blocks: committed.blocks.map((block) => ({ id: block.id, sizeInBytes: block.sizeInBytes })),
      contentLength: committed.contentLength,
      etag: committed.etag,
    };
  };
}
