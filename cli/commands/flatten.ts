/**
 * `flowtap flatten [FILE|-] [--blob-path PATH]`: one JSON event per flow tuple on stdout, streaming
 * (read stream -> record splitter -> flatten -> encode -> write, waiting for drain). Problems go to
 * stderr with file, record and tuple positions (control characters escaped); exit code 2 if there
 * were any (what parsed is still written), else 0, also when the reader closed the pipe (`| head`).
 * From stdin without --blob-path, the events' blob is the one the first record implies.
 */
import { createReadStream } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { encodeEvent, FlowLogFlattener, parseBlobPath, type FlattenResult } from "../../src/core";
import { impliedBlobPath } from "../../src/core/impliedBlobPath";
import { printable } from "../../src/core/printable";
import { FlowLogRecordSplitter, parseRecordJson } from "../../src/core/records";
import { FlowLogFormatError } from "../../src/errors";
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

/** A closed pipe (`| head`): the reader has what it wanted, which ends the output, not in error. */
const isClosedPipe = (error: unknown): boolean => (error as NodeJS.ErrnoException | undefined)?.code === "EPIPE";

/**
 * The flattener of stdin without --blob-path: the first record says its blob (resource id, hour,
 * MAC), so the events get the ids they get when read from storage. Chunks are held until then.
 */
class StdinFlattener {
  private flattener: FlowLogFlattener | undefined;
  private readonly probe = new FlowLogRecordSplitter();
  private held: Uint8Array[] = [];

  push(chunk: Uint8Array): FlattenResult {
    if (this.flattener) return this.flattener.push(chunk);
    this.held.push(chunk);
    const first = this.probe.push(chunk).records[0];
    if (!first) return { records: [], issues: [] };
    const parsed = parseRecordJson(first);
    // A first record that is not JSON says nothing: its issue is reported by the flattener.
    let blobPath: string;
    try {
      blobPath = impliedBlobPath(parsed.value);
    } catch (error) {
      if (!(error instanceof FlowLogFormatError)) throw error;
      throw new FlowLogFormatError(`${error.message} with --blob-path PATH`, { cause: error });
    }
    this.flattener = new FlowLogFlattener({ blobPath });
    return this.flattener.push(Buffer.concat(this.held.splice(0)));
  }

  /** No record at all: no event needs a blob, the issues are still found. */
  end(): FlattenResult {
    this.flattener ??= new FlowLogFlattener({ blobPath: "<stdin>" });
    if (this.held.length > 0) {
      const pushed = this.flattener.push(Buffer.concat(this.held.splice(0)));
      const ended = this.flattener.end();
      return { records: [...pushed.records, ...ended.records], issues: [...pushed.issues, ...ended.issues] };
    }
    return this.flattener.end();
  }
}

/** Runs `flatten` with the given arguments and streams; resolves to the exit code. */
export async function runFlatten(args: string[], io: FlattenIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    io.stderr.write(`flowtap flatten: ${printable(parsed)}\n${USAGE}`);
    return 2;
  }
  const fromStdin = parsed.file === null || parsed.file === "-";
  const source = printable(fromStdin ? "<stdin>" : parsed.file!);
  if (parsed.blobPath !== null) {
    try {
      parseBlobPath(parsed.blobPath);
    } catch (error) {
      io.stderr.write(`flowtap flatten: --blob-path: ${printable((error as Error).message)}\n`);
      return 2;
    }
  }
  // An unparsable FILE path still names the events' blob, so ids differ between files.
  const blobPath = parsed.blobPath ?? (fromStdin ? undefined : parsed.file!);
  const flattener = blobPath === undefined ? new StdinFlattener() : new FlowLogFlattener({ blobPath });
  let outputClosed = false;
  io.stdout.on("error", (error) => {
    if (!isClosedPipe(error)) throw error;
    outputClosed = true;
  });
  let issueCount = 0;
  const emit = async (result: FlattenResult): Promise<void> => {
    for (const issue of result.issues) io.stderr.write(`flowtap flatten: ${source}: ${printable(issue.message)}\n`);
    issueCount += result.issues.length;
    let lines = "";
    for (const record of result.records) for (const event of record.events) lines += `${encodeEvent(event)}\n`;
    if (lines !== "" && !outputClosed && !io.stdout.write(lines)) await drained(io.stdout);
  };

  const input = fromStdin ? io.stdin : createReadStream(parsed.file!);
  try {
    for await (const chunk of input) {
      await emit(flattener.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer)));
      if (outputClosed) break;
    }
    if (!outputClosed) await emit(flattener.end());
  } catch (error) {
    if (isClosedPipe(error)) return 0;
    logFailure(`flatten: reading ${source}`, error);
    const what = error instanceof FlowLogFormatError ? source : `cannot read ${source}`;
    io.stderr.write(`flowtap flatten: ${what}: ${printable((error as Error).message)}\n`);
    return 2;
  }
  if (outputClosed) return 0;
  return issueCount > 0 ? 2 : 0;
}

/** Resolves once the stream drained, or closed (a closed pipe takes nothing more). */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}

export const flattenCommand: CliCommand = {
  name: "flatten",
  summary: "flatten a flow-log file into one JSON event per flow tuple",
  run: (args) => runFlatten(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }),
};
