/**
 * Child process: the local Functions host (dist/src/app.js) with N worker processes runs one backfill, started as a
 * user starts it (POST /api/backfill with the function key), on a fresh store; replies with its wall time, its
 * summary, and the CPU time of the host process and of its workers (what each side costs per blob).
 */
import { readFileSync } from "node:fs";
import { startLocalHost, type LocalHost } from "../devhost/host";
import type { BackfillSummary } from "../src/contracts/backfillContracts";
import { postBackfill, type BackfillRequestBody } from "./backfillHttp";
import { serveBenchRequests } from "./childProcess";

/**
 * `warmUp` starts a host and runs a backfill on it, untimed (every worker's code compiled, its links open, as in a long
 * backfill); `backfill` then times one on that host and stops it. Two requests, so the parent can take the CPU time of
 * the processes around the host (Azurite, the endpoint) over the timed backfill alone.
 */
export type HostBackfillRequest =
  | {
      kind: "warmUp";
      appModulePath: string;
      settings: Record<string, string>;
      workerProcessCount: number;
      backfill: BackfillRequestBody;
    }
  | { kind: "backfill"; backfill: BackfillRequestBody };

export interface HostBackfillReply {
  /** The timed backfill's; 0 after a warm-up. */
  elapsedInMs: number;
  summary: Pick<BackfillSummary, "blobsTotal" | "blobsDone" | "blobsFailed" | "eventsSent" | "bytesRead">;
  hostCpuTimeInMs: number;
  workerCpuTimeInMs: number;
  workerProcesses: number;
}

/** utime + stime of a process in ms (Linux /proc; 0 elsewhere): workers are children, not this process's time. */
function processCpuTimeInMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.substring(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of proc(5), counted after the command: clock ticks, 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The host between a warm-up and its timed backfill. */
let warmHost: LocalHost | undefined;

async function serve(request: HostBackfillRequest): Promise<HostBackfillReply> {
  if (request.kind === "backfill") return timedBackfill(request.backfill);
  warmHost = await startLocalHost({
    app: { modulePath: request.appModulePath },
    port: 0,
    settings: request.settings,
    workerProcessCount: request.workerProcessCount,
    enableTimerTriggers: false,
  });
  const summary = await backfillThrough(warmHost, request.backfill);
  return { ...replyOf(summary, 0), hostCpuTimeInMs: 0, workerCpuTimeInMs: 0 };
}

async function timedBackfill(backfill: BackfillRequestBody): Promise<HostBackfillReply> {
  const host = warmHost;
  if (host === undefined) throw new Error("a timed backfill needs a warm-up first");
  warmHost = undefined;
  try {
    const workersAtStart = host.workerPids.map((pid) => ({ pid, cpu: processCpuTimeInMs(pid) }));
    const cpuAtStart = process.cpuUsage();
    const start = performance.now();
    const summary = await backfillThrough(host, backfill);
    const elapsedInMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuAtStart);
    return {
      ...replyOf(summary, elapsedInMs),
      hostCpuTimeInMs: (cpu.user + cpu.system) / 1000,
      workerCpuTimeInMs: workersAtStart.reduce((sum, worker) => sum + processCpuTimeInMs(worker.pid) - worker.cpu, 0),
      workerProcesses: workersAtStart.length,
    };
  } finally {
    await host.stop();
  }
}

/** Starts a backfill as a user does and waits for its summary. */
async function backfillThrough(host: LocalHost, backfill: BackfillRequestBody): Promise<BackfillSummary> {
  const { id } = await postBackfill(host.baseUrl, host.keys.host, backfill);
  const status = await host.waitForInstance(id, { timeoutInMs: 60 * 60_000 });
  if (status.runtimeStatus !== "Completed")
    throw new Error(`backfill ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
  return status.output as BackfillSummary;
}

function replyOf(
  summary: BackfillSummary,
  elapsedInMs: number,
): Pick<HostBackfillReply, "elapsedInMs" | "summary" | "workerProcesses"> {
  const { blobsTotal, blobsDone, blobsFailed, eventsSent, bytesRead } = summary;
  return {
    elapsedInMs,
    summary: { blobsTotal, blobsDone, blobsFailed, eventsSent, bytesRead },
    workerProcesses: warmHost?.workerPids.length ?? 0,
  };
}

serveBenchRequests<HostBackfillRequest, HostBackfillReply>(serve, async () => {
  await warmHost?.stop();
});
