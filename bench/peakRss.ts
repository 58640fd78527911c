/**
 * Peak resident memory of processes by pid, from Linux's /proc: `VmHWM` (the high-water mark since
 * the process's exec, so a forked child does not inherit its parent's), summed with that of its
 * descendants (a host's worker processes). Undefined off Linux or once the process is gone.
 */
import { readdirSync, readFileSync } from "node:fs";

export function peakRssOfPid(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The pids of a process's children (every thread's list). */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((thread) =>
      readFileSync(`/proc/${pid}/task/${thread}/children`, "utf8")
        .split(" ")
        .filter((text) => text.trim() !== "")
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** Peak RSS of a process and, each on its own, of its descendants (pid → bytes). */
export function peakRssOfTree(pid: number): Map<number, number> {
  const peaks = new Map<number, number>();
  const visit = (current: number): void => {
    const peak = peakRssOfPid(current);
    if (peak !== undefined) peaks.set(current, peak);
    for (const child of childPids(current)) visit(child);
  };
  visit(pid);
  return peaks;
}
