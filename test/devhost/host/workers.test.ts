/**
 * The local host's worker processes: activities, orchestrators and entities run in N Node processes that load the
 * app module, round robin; a worker that dies fails the invocations it ran (the orchestration's retry runs them
 * again) and is replaced; workers get the app settings, log through the host and stop with it.
 */
import { AzureLogger, getLogLevel, setLogLevel, type AzureLogLevel } from "@azure/logger";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost, type LocalHostOptions } from "../../../devhost/host";
import { WORKER_APP_SETTING, workerAppNames, type WhereAmI } from "./workerAppNames";

const WORKER_APP = path.join(__dirname, "workerApp.ts");
let host: LocalHost | undefined;
let scratch: string | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

function start(options: LocalHostOptions = {}): Promise<LocalHost> {
  return startLocalHost({
    app: { modulePath: WORKER_APP },
    port: 0,
    enableTimerTriggers: false,
    workerProcessCount: 2,
    ...options,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function run(local: LocalHost, name: string, input: unknown) {
  const id = await local.startOrchestration(name, { input });
  return local.waitForInstance(id, { timeoutInMs: 30_000 });
}

describe("local host worker processes", () => {
  it("runs activities in more than one worker process, none of them the host's, with the app settings", async () => {
    host = await start({ settings: { [WORKER_APP_SETTING]: "from the host" } });

    const status = await run(host, workerAppNames.fanOut, 8);

    const { places, entityPid } = status.output as { places: WhereAmI[]; entityPid: number };
    expect(status.runtimeStatus).toBe("Completed");
    const pids = new Set(places.map((place) => place.pid));
    expect(pids.size).toBe(2);
    expect([...pids].sort()).toEqual([...host.workerPids].sort());
    expect(pids.has(process.pid)).toBe(false);
    expect(host.workerPids).toContain(entityPid);
    expect(places.every((place) => place.setting === "from the host")).toBe(true);
    expect(host.getEntityState(workerAppNames.tally, "all")).toBe(8);
  });

  it("takes FUNCTIONS_WORKER_PROCESS_COUNT when the host option is not given", async () => {
    host = await start({ workerProcessCount: undefined, settings: { FUNCTIONS_WORKER_PROCESS_COUNT: "3" } });

    expect(host.workerPids).toHaveLength(3);
  });

  it("refuses a worker count it cannot run, naming the setting or the option", async () => {
    await expect(
      start({ workerProcessCount: undefined, settings: { FUNCTIONS_WORKER_PROCESS_COUNT: "two" } }),
    ).rejects.toThrow("FUNCTIONS_WORKER_PROCESS_COUNT must be an integer of at most 10, got 'two'");
    await expect(start({ workerProcessCount: 11 })).rejects.toThrow("workerProcessCount must be an integer in [0, 10]");
    await expect(start({ app: { register: () => undefined } })).rejects.toThrow(
      /2 worker processes load the app module, but the app is a register callback/,
    );
  });

  it("runs everything in the host process with workerProcessCount 0", async () => {
    host = await start({ workerProcessCount: 0 });

    const status = await run(host, workerAppNames.fanOut, 2);

    expect(host.workerPids).toEqual([]);
    expect((status.output as { places: WhereAmI[] }).places.map((place) => place.pid)).toEqual([
      process.pid,
      process.pid,
    ]);
  });

  it("fails the invocation of a worker that dies, restarts the worker; the retry policy runs it again", async () => {
    host = await start();
    scratch = mkdtempSync(path.join(tmpdir(), "flowtap-workers-"));
    const before = host.workerPids;

    const status = await run(host, workerAppNames.dieOnceRetried, path.join(scratch, "marker"));

    expect(status.runtimeStatus).toBe("Completed");
    const failed = host.getHistory(status.instanceId).find((event) => event.EventType === 6);
    expect(failed?.Reason).toMatch(/^Activity function 'dieOnce' failed: node exited with code 137 \(0x89\)/);
    expect(host.workerPids).toHaveLength(2);
    expect(host.workerPids.filter((pid) => !before.includes(pid))).toHaveLength(1);
    expect(host.workerPids).toContain(status.output);
  });

  it("hands the dead worker's failure to an orchestration without a retry policy", async () => {
    host = await start();
    scratch = mkdtempSync(path.join(tmpdir(), "flowtap-workers-"));

    const status = await run(host, workerAppNames.dieOnceCaught, path.join(scratch, "marker"));

    expect(status.output).toEqual({ error: expect.stringMatching(/exited with code 137/) as unknown });
  });

  it("fails an orchestration whose episode's worker dies, as the extension fails it, and goes on", async () => {
    host = await start();
    scratch = mkdtempSync(path.join(tmpdir(), "flowtap-workers-"));

    const status = await run(host, workerAppNames.dieInEpisode, path.join(scratch, "marker"));
    const next = await run(host, workerAppNames.fanOut, 2);

    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure).toMatchObject({
      errorType: "WorkerProcessExitException",
      errorMessage: "node exited with code 137 (0x89)",
    });
    expect(status.output).toBe("Orchestrator function 'dieInEpisode' failed: node exited with code 137 (0x89)");
    expect(next.runtimeStatus).toBe("Completed");
  });

  it("logs the workers' output through the host and stops the workers with it", async () => {
    const lines: string[] = [];
    const { log } = AzureLogger;
    const level = getLogLevel();
    setLogLevel("verbose");
    AzureLogger.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
    try {
      host = await start();
      const pids = host.workerPids;
      await run(host, workerAppNames.fanOut, 4);
      await host.stop();

      expect(lines.some((line) => /whereAmI 3 ran in process \d+/.test(line))).toBe(true);
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      AzureLogger.log = log;
      setLogLevel(level as AzureLogLevel | undefined);
    }
  });
});
