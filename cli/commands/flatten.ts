/**
 * `flowtap flatten [FILE|-] [--blob-path PATH]`: one JSON event per flow tuple on stdout, streaming
 * (read stream -> record splitter -> flatten -> encode -> write, waiting for drain). Problems go to
 * stderr with file, record and tuple positions; exit code 2 if there were any (what parsed is still
 * written), 0 otherwise.
 */
import { createReadStream } from "node:fs";
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { encodeEvent, FlowLogFlattener, parseBlobPath, type FlattenResult } from "../../src/core";
import { logFailure } from "../../src/logger";
import type { CliCommand } from "../command";

const USAGE = `usage: flowtap flatten [FILE|-] [--blob-path PATH]
  Writes one JSON event per flow tuple of a PT1H.json flow log (FILE, or stdin for - or none).
  --blob-path PATH  the blob's path (with or without its container), which names the events' blob
                    and their ids (default: FILE's own path when it holds one
                    (.../resourceId=/.../PT1H.json or .../flowLogResourceID=/.../PT1H.json), else the
                    path the records imply: resource id, hour and MAC)
example: npx flowtap flatten ./logs/insights-logs-flowlogflowevent/flowLogResourceID=/.../PT1H.json | head
`;

/** The streams a run uses (the process's own, or test streams). */
export interface FlattenIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

interface FlattenArgs {
  file: string | null;
  blobPath: string | null;
}

function parseArgs(args: string[]): FlattenArgs | string {
  const parsed: FlattenArgs = { file: null, blobPath: null };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--blob-path" || arg.startsWith("--blob-path=")) {
      const value = arg === "--blob-path" ? args[++i] : arg.slice("--blob-path=".length);
      if (!value) return "--blob-path needs a value";
      parsed.blobPath = value;
    } else if (arg.startsWith("-") && arg !== "-") {
      return `unknown option '${arg}'`;
    } else if (parsed.file !== null) {
      return `more than one FILE ('${parsed.file}', '${arg}')`;
    } else {
      parsed.file = arg;
    }
  }
  return parsed;
}

/** Runs `flatten` with the given arguments and streams; resolves to the exit code. */
export async function runFlatten(args: string[], io: FlattenIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    io.stderr.write(`flowtap flatten: ${parsed}\n${USAGE}`);
    return 2;
  }
  const fromStdin = parsed.file === null || parsed.file === "-";
  const source = fromStdin ? "<stdin>" : parsed.file!;
  if (parsed.blobPath !== null) {
    try {
      parseBlobPath(parsed.blobPath);
    } catch (error) {
      io.stderr.write(`flowtap flatten: --blob-path: ${(error as Error).message}\n`);
      return 2;
    }
  }
  // An unparsable FILE path still names the events' blob, so ids differ between files.
  const flattener = new FlowLogFlattener({ blobPath: parsed.blobPath ?? (fromStdin ? undefined : parsed.file!) });
  let issueCount = 0;
  const emit = async (result: FlattenResult): Promise<void> => {
    for (const issue of result.issues) io.stderr.write(`flowtap flatten: ${source}: ${issue.message}\n`);
    issueCount += result.issues.length;
    let lines = "";
    for (const record of result.records) for (const event of record.events) lines += `${encodeEvent(event)}\n`;
    if (lines !== "" && !io.stdout.write(lines)) await once(io.stdout, "drain");
  };

  const input = fromStdin ? io.stdin : createReadStream(parsed.file!);
  try {
    for await (const chunk of input) {
      await emit(flattener.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer)));
    }
  } catch (error) {
    logFailure(`flatten: reading ${source}`, error);
    io.stderr.write(`flowtap flatten: cannot read ${source}: ${(error as Error).message}\n`);
    return 2;
  }
  await emit(flattener.end());
  return issueCount > 0 ? 2 : 0;
}

export const flattenCommand: CliCommand = {
  name: "flatten",
  summary: "flatten a flow-log file into one JSON event per flow tuple",
  run: (args) => runFlatten(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }),
};
