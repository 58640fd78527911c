/**
 * `flowtap generate`: writes synthetic NSG (v2) and VNet (v4) flow logs in the container
 * layout azcopy downloads (`DIR/<container>/<blob path>/PT1H.json`), streaming each blob to
 * its file, with optional scripted attacks. Deterministic for a seed and a start hour.
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { CliCommand } from "../command";
import { logFailure } from "../../src/logger";
import {
  ATTACK_KINDS,
  buildTopology,
  countTuples,
  generateRecords,
  hoursFrom,
  planBlobs,
  scheduleAttacks,
  serializeBlob,
  type AttackKind,
  type AttackPlan,
  type FlowLogRecord,
  type Topology,
} from "../../devhost/generate";

export interface GenerateCliOptions {
  outDir: string;
  hours: number;
  nics: number;
  attacks: AttackKind[];
  seed: number;
  /** Whole UTC hour, ISO-8601. */
  startHourIso: string;
  /** undefined: the generator's realistic default (16..40). */
  tuplesPerMinute: number | undefined;
}

export interface GenerateSummary {
  blobs: number;
  records: number;
  tuples: number;
  bytes: number;
  attacks: AttackPlan[];
}

/** Where the command writes; tests pass collectors. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Bad command line: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const USAGE = `usage: flowtap generate --out DIR [--hours N] [--nics M] [--attack scan|bruteforce|egress]...
                        [--seed S] [--start YYYY-MM-DDTHH:00:00Z] [--tuples-per-minute T]
  --out DIR               where to write DIR/<container>/<blob path>/PT1H.json (required)
  --hours N               hours per NIC, 1..744 (default 1)
  --nics M                NICs, alternately NSG and VNet flow logs, 1..10000 (default 4)
  --attack KIND           scripted attack (default none), repeatable or comma-separated; the i-th
                          starts at minute 10+15*i of the run on NIC i (modulo --nics)
  --seed S                integer seed, 0..4294967295 (default 1)
  --start HOUR            first hour, a whole UTC hour (default: --hours before the current hour)
  --tuples-per-minute T   benign tuples per NIC-minute, 0..1000000 (default 16..40, random)
example: npx flowtap generate --out ./logs --hours 2 --nics 4 --attack scan
`;

const MAX = { hours: 744, nics: 10_000, seed: 0xffff_ffff, tuplesPerMinute: 1_000_000 } as const;

function parseInteger(option: string, value: string, min: number, max: number): number {
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${option} must be an integer in [${min}, ${max}], got '${value}'`);
  }
  return number;
}

/** Parses and validates the arguments; `nowMs` only sets the default --start. */
export function parseGenerateArgs(args: readonly string[], nowMs: number): GenerateCliOptions {
  let outDir: string | undefined;
  let hours = 1;
  let nics = 4;
  let seed = 1;
  let start: string | undefined;
  let tuplesPerMinute: number | undefined;
  const attacks: AttackKind[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf("=");
    const option = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const next = inline ?? args[++i];
      if (next === undefined || (inline === undefined && next.startsWith("--")))
        throw new UsageError(`${option} needs a value`);
      return next;
    };
    switch (option) {
      case "--out":
        outDir = value();
        if (outDir.trim() === "") throw new UsageError("--out must not be empty");
        break;
      case "--hours":
        hours = parseInteger(option, value(), 1, MAX.hours);
        break;
      case "--nics":
        nics = parseInteger(option, value(), 1, MAX.nics);
        break;
      case "--seed":
        seed = parseInteger(option, value(), 0, MAX.seed);
        break;
      case "--tuples-per-minute":
        tuplesPerMinute = parseInteger(option, value(), 0, MAX.tuplesPerMinute);
        break;
      case "--start":
        start = value();
        break;
      case "--attack":
        for (const kind of value().split(",")) {
          if (!(ATTACK_KINDS as readonly string[]).includes(kind)) {
            throw new UsageError(
              `--attack must be one of ${ATTACK_KINDS.join(", ")} (repeatable or comma-separated), got '${kind}'`,
            );
          }
          attacks.push(kind as AttackKind);
        }
        break;
      default:
        throw new UsageError(`unknown option '${arg}'`);
    }
  }
  if (outDir === undefined) throw new UsageError("--out DIR is required");
  return { outDir, hours, nics, attacks, seed, startHourIso: startHour(start, hours, nowMs), tuplesPerMinute };
}

/** The given --start (normalised), or the hour `hours` before the current one. */
function startHour(start: string | undefined, hours: number, nowMs: number): string {
  if (start === undefined) return new Date((Math.floor(nowMs / 3_600_000) - hours) * 3_600_000).toISOString();
  try {
    return hoursFrom(start, 1)[0] as string;
  } catch (error) {
    throw new UsageError(`--start must be a whole UTC hour like 2026-11-22T10:00:00Z, got '${start}'`, {
      cause: error,
    });
  }
}

/** The attacks' schedule, or a usage error naming --attack when they do not fit the run. */
function scheduledAttacks(options: GenerateCliOptions, topology: Topology): AttackPlan[] {
  try {
    return scheduleAttacks({
      kinds: options.attacks,
      topology,
      startHourIso: options.startHourIso,
      hours: options.hours,
    });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`--attack: ${error.message} (see --hours)`, { cause: error });
    throw error;
  }
}

/** Writes every blob; returns what was written. */
export async function generateFiles(options: GenerateCliOptions): Promise<GenerateSummary> {
  const topology = buildTopology({ seed: options.seed, nics: options.nics });
  const attacks = scheduledAttacks(options, topology);
  const summary: GenerateSummary = { blobs: 0, records: 0, tuples: 0, bytes: 0, attacks };
  for (const { nic, hourIso, container, path } of planBlobs(topology, options.startHourIso, options.hours)) {
    const file = join(options.outDir, container, ...path.split("/"));
    await mkdir(dirname(file), { recursive: true });
    const records = generateRecords({ topology, nic, hourIso, attacks, tuplesPerMinute: options.tuplesPerMinute });
    const counted = function* (): Generator<FlowLogRecord> {
      for (const record of records) {
        summary.records += 1;
        summary.tuples += countTuples(record);
        yield record;
      }
    };
    const chunks = function* (): Generator<Buffer> {
      for (const chunk of serializeBlob(counted())) {
        const buffer = Buffer.from(chunk, "utf8");
        summary.bytes += buffer.length;
        yield buffer;
      }
    };
    await pipeline(Readable.from(chunks(), { objectMode: false }), createWriteStream(file));
    summary.blobs += 1;
  }
  return summary;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export async function runGenerate(
  args: readonly string[],
  io: CliIo = processIo,
  nowMs: number = Date.now(),
): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(USAGE);
    return 0;
  }
  let options: GenerateCliOptions;
  let summary: GenerateSummary;
  try {
    options = parseGenerateArgs(args, nowMs);
    summary = await generateFiles(options);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`flowtap generate: ${error.message}\n${USAGE}`);
      return 2;
    }
    logFailure("flowtap generate failed", error);
    io.stderr(`flowtap generate: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const attackText = summary.attacks.map((a) => `${a.kind} on ${a.macAddress} at ${a.startIso}`).join(", ");
  io.stdout(
    `generated ${summary.blobs} blobs, ${summary.records} records, ${summary.tuples} tuples, ${summary.bytes} bytes ` +
      `(${options.nics} NICs x ${options.hours} h from ${options.startHourIso}, seed ${options.seed})` +
      ` in ${options.outDir}${attackText ? `; attacks: ${attackText}` : ""}\n`,
  );
  return 0;
}

export const generateCommand: CliCommand = {
  name: "generate",
  summary: "write synthetic NSG and VNet flow logs (PT1H.json blobs) to a directory, with optional attacks",
  run: (args) => runGenerate(args),
};
