/**
 * Benchmark figures, their targets, the stdout table and `bench/results.json`. A figure's verdict
 * comes from a ratio (or a bound) measured in the same run, so a noisy machine moves it little.
 */
import { writeFile } from "node:fs/promises";
import type { Spread } from "./repeat";
import { cpus, freemem, loadavg, release, totalmem, type as osType } from "node:os";

/** `>=` / `<`: what the compared number must be; `of` says which number is compared. */
export interface BenchTarget {
  comparator: ">=" | "<";
  threshold: number;
  of: "ratio" | "value";
}

export type BenchStatus = "pass" | "miss" | "info" | "pending";

export interface BenchFigure {
  /** Stable key, e.g. `core.generated`. */
  id: string;
  /** What was measured, for the table. */
  label: string;
  value: number | null;
  unit: string;
  /** The same-run ratio the verdict rests on (median of repetitions), and what it is a ratio against. */
  ratio?: BenchRatio;
  target?: BenchTarget;
  status: BenchStatus;
  /** Secondary numbers (sizes, counts, sub-timings), all in the units their names say. */
  details?: Record<string, number | string>;
  /** How the figure is measured, what limits it, or why it is pending. */
  note?: string;
  /** When and by which command it was measured (results.json keeps figures of sections not re-run). */
  measuredAt?: string;
  measuredBy?: string;
}

/** A ratio measured in alternating repetitions (bench/repeat.ts): median, min, max, how many. */
export interface BenchRatio {
  value: number;
  against: string;
  min?: number;
  max?: number;
  repetitions?: number;
}

/** The figure's ratio from a spread of per-repetition ratios (bench/repeat.ts). */
export function ratioOf(spread: Spread, against: string): BenchRatio {
  return { value: spread.median, against, min: spread.min, max: spread.max, repetitions: spread.count };
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryInBytes: number;
  freeMemoryInBytesAtStart: number;
  /** 1-minute load average at the start: how busy the machine was (others' work shares the cores). */
  loadAverageAtStart: number;
  os: string;
}

export interface BenchResults {
  date: string;
  command: string;
  machine: MachineInfo;
  node: string;
  options: Record<string, unknown>;
  durationInSeconds: number;
  figures: BenchFigure[];
}

export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    memoryInBytes: totalmem(),
    freeMemoryInBytesAtStart: freemem(),
    loadAverageAtStart: loadavg()[0] ?? Number.NaN,
    os: `${osType()} ${release()} ${process.arch}`,
  };
}

/** A measured figure with its verdict against the target (if any). */
export function measured(figure: Omit<BenchFigure, "status">): BenchFigure {
  return { ...figure, status: verdict(figure) };
}

/** A figure that could not be measured in this run (a part of the app is missing, or it failed). */
export function pending(id: string, label: string, unit: string, note: string, target?: BenchTarget): BenchFigure {
  return { id, label, value: null, unit, target, status: "pending", note };
}

function verdict(figure: Omit<BenchFigure, "status">): BenchStatus {
  const { target } = figure;
  if (!target) return "info";
  const compared = target.of === "ratio" ? figure.ratio?.value : figure.value;
  if (compared === undefined || compared === null || !Number.isFinite(compared)) return "miss";
  return (target.comparator === ">=" ? compared >= target.threshold : compared < target.threshold) ? "pass" : "miss";
}

/** Three significant digits, thousands grouped: 1,234,567 / 12.3 / 0.123. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function targetText(target: BenchTarget | undefined, unit: string): string {
  if (!target) return "";
  const what = target.of === "ratio" ? "ratio" : unit;
  return `${what} ${target.comparator} ${formatNumber(target.threshold)}`;
}

/** `0.95x [0.90-1.02] vs ceiling`: the median, then min and max of the repetitions when there were several. */
export function ratioText(ratio: BenchRatio): string {
  const spread =
    ratio.min !== undefined && ratio.max !== undefined && (ratio.repetitions ?? 0) > 1
      ? ` [${formatNumber(ratio.min)}-${formatNumber(ratio.max)}]`
      : "";
  return `${formatNumber(ratio.value)}x${spread} vs ${ratio.against}`;
}

/** The table printed on stdout: one line per figure, then the notes. */
export function formatTable(figures: readonly BenchFigure[]): string {
  const rows = figures.map((figure) => [
    figure.label,
    figure.value === null ? "—" : `${formatNumber(figure.value)} ${figure.unit}`,
    figure.ratio ? ratioText(figure.ratio) : "",
    targetText(figure.target, figure.unit),
    figure.status.toUpperCase(),
  ]);
  const header = ["figure", "value", "ratio (same run: median [min-max])", "target", "status"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join(" | ")
      .trimEnd();
  const notes = figures.filter((figure) => figure.note).map((figure) => `- ${figure.label}: ${figure.note}`);
  return (
    [line(header), widths.map((width) => "-".repeat(width)).join("-|-"), ...rows.map(line), "", ...notes].join("\n") +
    "\n"
  );
}

export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`, "utf8");
}
