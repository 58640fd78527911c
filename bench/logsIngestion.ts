/**
 * Log Analytics figure on the local Logs Ingestion endpoint (in this process, rows counted, not kept):
 * our sink (`createLogsIngestionSink(...).send(events)`: ASIM mapping, the 64 KB field check, the
 * SDK's upload and the per-chunk bookkeeping) against the bare SDK (`LogsIngestionClient.upload` of
 * the same rows, mapped beforehand, afresh for each run), in alternating order over several repetitions; the verdict is
 * the median of the per-repetition ratios of rows per second.
 */
import { performance } from "node:perf_hooks";
import { readSinkSettings } from "../src/config";
import { eventsOf, flattenFlowLog, toNetworkSessionRow, type FlowEvent } from "../src/core";
import { createLogsIngestionClient, createLogsIngestionSink } from "../src/adapters/logsIngestionSink";
import { startLogsIngestionEndpoint } from "../devhost/logsingestion";
import { median } from "./core";
import { generateInMemoryCorpus } from "./corpus";
import { measured, type BenchFigure } from "./report";

export interface LogsIngestionBenchOptions {
  eventCount: number;
  repetitions: number;
}

/** `count` flattened events of generated blobs (≈ 62-70 blob bytes per tuple). */
function generatedEvents(count: number): FlowEvent[] {
  const blobs = generateInMemoryCorpus(Math.max(count * 80, 64 * 1024), 4 * 1024 * 1024);
  return blobs.flatMap((blob) => eventsOf(flattenFlowLog(blob.bytes, { blobPath: blob.name }))).slice(0, count);
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export async function runLogsIngestionBench(options: LogsIngestionBenchOptions): Promise<BenchFigure[]> {
  const endpoint = await startLogsIngestionEndpoint({ keepRows: false });
  try {
    const settings = readSinkSettings(await endpoint.appSettings()).logsIngestion!;
    const sink = createLogsIngestionSink(settings);
    const bare = createLogsIngestionClient(settings);
    const events = generatedEvents(options.eventCount);
    const rowsOf = () => events.map(toNetworkSessionRow);
    const ratios: number[] = [];
    const sinkRates: number[] = [];
    const bareRates: number[] = [];
    // One warm-up of each (TLS sessions, token, JIT), then alternating order.
    await sink.send(events.slice(0, 1000));
    await bare.upload(settings.ruleId, settings.streamName, rowsOf().slice(0, 1000));
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      const runSink = () => timed(() => sink.send(events));
      // Rows mapped afresh (untimed) each time, as the sink's are: fresh objects cost the SDK more to serialize.
      const rows = rowsOf();
      const runBare = () => timed(() => bare.upload(settings.ruleId, settings.streamName, rows));
      let sinkMs: number;
      let bareMs: number;
      if (repetition % 2 === 0) {
        sinkMs = await runSink();
        bareMs = await runBare();
      } else {
        bareMs = await runBare();
        sinkMs = await runSink();
      }
      sinkRates.push(events.length / (sinkMs / 1000));
      bareRates.push(events.length / (bareMs / 1000));
      ratios.push(bareMs / sinkMs);
    }
    const calls = endpoint.calls.length;
    return [
      measured({
        id: "loganalytics.sink",
        label: "Log Analytics sink vs bare SDK uploads (same rows)",
        value: median(sinkRates),
        unit: "rows/s",
        ratio: { value: median(ratios), against: "LogsIngestionClient.upload of the same pre-mapped rows" },
        target: { comparator: ">=", threshold: 0.8, of: "ratio" },
        details: {
          rows: events.length,
          repetitions: options.repetitions,
          bareRowsPerSecond: Math.round(median(bareRates)),
          uploadCalls: calls,
        },
        note:
          "Local https endpoint in the bench process (gunzip + JSON.parse per call); the sink maps each event to " +
          "its ASIM row and checks field sizes inside the timed part, the bare SDK gets the rows mapped.",
      }),
    ];
  } finally {
    await endpoint.stop();
  }
}
