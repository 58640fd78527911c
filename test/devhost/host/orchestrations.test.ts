import { afterEach, describe, expect, it } from "vitest";
import { startLocalHost, type LocalHost, type LocalHostOptions } from "../../../devhost/host";
import { activityLoad, gate, names, registerSampleApp, sampleSwitches } from "./sampleApp";

let host: LocalHost | undefined;

async function start(options: Partial<LocalHostOptions> = {}): Promise<LocalHost> {
  host = await startLocalHost({
    app: { register: registerSampleApp },
    port: 0,
    clock: { mode: "virtual" },
    ...options,
  });
  return host;
}

afterEach(async () => {
  await host?.stop();
  host = undefined;
  sampleSwitches.divergentActivity = false;
});

describe("local host orchestrations", () => {
  it("runs activities in sequence and keeps the custom status", async () => {
    const local = await start();

    const id = await local.startOrchestration(names.sequence, { input: ["Oslo", "Bergen"] });
    const status = await local.waitForInstance(id);

    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["Hello Oslo", "Hello Bergen"]);
    expect(status.customStatus).toEqual({ done: 2 });
  });

  it("fans out with Task.all under the activity concurrency limit", async () => {
    const local = await start({ maxConcurrentActivities: 2 });

    const status = await local.waitForInstance(await local.startOrchestration(names.fanOut, { input: 6 }));

    expect(status.output).toEqual(["Hello #0", "Hello #1", "Hello #2", "Hello #3", "Hello #4", "Hello #5"]);
  });

  it("runs up to maxConcurrentActivities activities at once", async () => {
    const local = await start({ maxConcurrentActivities: 3 });
    activityLoad.maxInFlight = 0;

    const status = await local.waitForInstance(
      await local.startOrchestration(names.fanOut, { input: { count: 12, activity: names.slowEcho } }),
    );

    expect(status.runtimeStatus).toBe("Completed");
    expect(activityLoad.maxInFlight).toBe(3);
  });

  it("runs one operation at a time per entity", async () => {
    const local = await start();

    await Promise.all(Array.from({ length: 40 }, () => local.signalEntity(names.counter, "busy", "add", 1)));
    await local.waitForIdle();

    expect(local.getEntityState(names.counter, "busy")).toBe(40);
    expect(local.getEntityState<number[]>(names.audit, "busy")).toHaveLength(40);
  });

  it("sleeps through a timer longer than the maximum short timer", async () => {
    const local = await start({ clock: { mode: "virtual", startTime: new Date("2026-05-01T00:00:00Z") } });

    const status = await local.waitForInstance(await local.startOrchestration(names.longSleep));

    expect(status.output).toBe("2026-05-11T00:00:00.000Z");
    expect(local.getHistory(status.instanceId).filter((e) => e.EventType === 10).length).toBeGreaterThan(1);
  });

  it("retries a failing activity until an attempt succeeds", async () => {
    const local = await start();
    local.faults.failActivity(names.hello, { invocations: [1, 2] });

    const status = await local.waitForInstance(
      await local.startOrchestration(names.retrying, { input: { activity: names.hello, attempts: 3 } }),
    );

    expect(status.output).toBe("Hello retry");
    expect(local.faults.activityInvocations(names.hello)).toBe(3);
  });

  it("fails the orchestration with the activity's real error once retries are exhausted", async () => {
    const local = await start();

    const status = await local.waitForInstance(
      await local.startOrchestration(names.retrying, { input: { activity: names.alwaysFails, attempts: 3 } }),
    );

    expect(status.runtimeStatus).toBe("Failed");
    // As in Azure: the orchestration gets "Activity function '<name>' failed: <message>" (TaskActivityShim).
    expect(status.failure?.errorType).toBe("Error");
    expect(status.failure?.errorMessage).toMatch(/^Activity function 'alwaysFails' failed: no luck with retry \n /);
    expect(local.faults.activityInvocations(names.alwaysFails)).toBe(3);
  });

  it("waits for retry delays on the virtual clock", async () => {
    const local = await start();
    local.faults.failActivity(names.hello, { invocations: [1] });
    const startedAt = local.clock.now().getTime();

    await local.waitForInstance(
      await local.startOrchestration(names.retrying, { input: { activity: names.hello, attempts: 2 } }),
    );

    expect(local.clock.now().getTime() - startedAt).toBe(60_000);
  });

  it("runs sub-orchestrations, with retry, and surfaces a sub-orchestration's failure", async () => {
    const local = await start();

    const id = await local.startOrchestration(names.parent, { instanceId: "parent-1" });
    const status = await local.waitForInstance(id);

    expect(status.output).toMatchObject({ first: ["Hello Paris"], second: ["Hello Rome"] });
    expect((status.output as { failure: string }).failure).toContain("orchestrator gave up");
    expect(local.getInstance("parent-1-child")?.runtimeStatus).toBe("Completed");
  });

  it("fails an orchestration with the real error it threw", async () => {
    const local = await start();

    const status = await local.waitForInstance(await local.startOrchestration(names.failing));

    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure).toMatchObject({ errorType: "TypeError", errorMessage: "orchestrator gave up" });
    expect(status.output).toBe("Orchestrator function 'failingOrchestration' failed: orchestrator gave up");
  });

  it("fires durable timers by jumping the virtual clock when everything is idle", async () => {
    const local = await start({ clock: { mode: "virtual", startTime: new Date("2026-03-01T00:00:00Z") } });

    const status = await local.waitForInstance(await local.startOrchestration(names.timer));

    expect(status.output).toEqual({
      started: "2026-03-01T00:00:00.000Z",
      woke: "2026-03-01T03:00:00.000Z",
      greeting: "Hello after the timer",
    });
  });

  it("fires durable timers on the real clock by default", async () => {
    const local = await start({ clock: { mode: "real" } });

    const status = await local.waitForInstance(await local.startOrchestration(names.timer, { input: 20 }));

    expect(status.output).toMatchObject({ greeting: "Hello after the timer" });
  });

  it("lets an external event win a race against a timer", async () => {
    const local = await start({ clock: { mode: "virtual", autoAdvance: false } });
    const id = await local.startOrchestration(names.approval);
    await local.waitForIdle();

    await local.raiseEvent(id, "approve", "alice");
    const status = await local.waitForInstance(id);

    expect(status.output).toEqual({ approvedBy: "alice" });
  });

  it("lets the timer win when no event arrives", async () => {
    const local = await start();

    const status = await local.waitForInstance(await local.startOrchestration(names.approval));

    expect(status.output).toEqual({ approvedBy: null });
  });

  it("calls and signals entities, which signal other entities; a failed operation keeps the state", async () => {
    const local = await start();

    const status = await local.waitForInstance(await local.startOrchestration(names.counterUser, { instanceId: "k1" }));
    await local.waitForIdle();

    // durable-functions serializes an entity's thrown Error as "{}": the host names the failed operation instead.
    expect(status.output).toEqual({ value: 15, failure: 'entity operation "explode" on @counter@k1 failed' });
    expect(local.getEntityState(names.counter, "k1")).toBe(15);
    expect(local.getEntityState(names.audit, "k1")).toEqual([5, 10]);
  });

  it("lets an entity start an orchestration through the durable client", async () => {
    const local = await start();

    await local.signalEntity(names.starter, "s1", "start");
    const status = await local.waitForInstance("started-by-s1");
    await local.waitForIdle();

    expect(status.output).toEqual(["Hello Oslo"]);
    expect(local.getEntityState(names.starter, "s1")).toBe("started-by-s1");
  });

  it("continues as new with a fresh history until done", async () => {
    const local = await start();

    const id = await local.startOrchestration(names.countdown, { input: 3 });
    const status = await local.waitForInstance(id);

    expect(status.output).toBe("lift-off");
    expect(status.input).toBe(0);
    expect(local.getHistory(id).filter((e) => e.EventType === 4)).toHaveLength(1);
  });

  it("fails an instance whose replay schedules different work than its history", async () => {
    const local = await start({ clock: { mode: "virtual", autoAdvance: false } });
    const id = await local.startOrchestration(names.divergent);
    await local.waitForIdle();

    sampleSwitches.divergentActivity = true;
    await local.raiseEvent(id, "continue");
    const status = await local.waitForInstance(id);

    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.errorType).toBe("NonDeterministicOrchestrationError");
    expect(status.failure?.errorMessage).toContain(`"${names.alwaysFails}"`);
  });

  it("refuses to start an instance id that is running and restarts a finished one", async () => {
    const local = await start({ clock: { mode: "virtual", autoAdvance: false } });
    await local.startOrchestration(names.approval, { instanceId: "once" });
    await local.waitForIdle();

    await expect(local.startOrchestration(names.approval, { instanceId: "once" })).rejects.toThrow(/already running/);
    await local.raiseEvent("once", "approve", "bob");
    await local.waitForInstance("once");
    await local.startOrchestration(names.sequence, { instanceId: "once", input: ["again"] });
    const second = await local.waitForInstance("once");

    expect(second.output).toEqual(["Hello again"]);
  });

  it("drops a completion meant for an earlier execution of a restarted instance id", async () => {
    const local = await start({ clock: { mode: "virtual", autoAdvance: false } });
    await local.startOrchestration(names.gated, { instanceId: "reused" });
    await gate.entered;
    await (
      await fetch(`${local.baseUrl}/durabletask/instances/reused/terminate?reason=test`, { method: "POST" })
    ).text();
    await local.startOrchestration(names.approval, { instanceId: "reused" });

    gate.open();
    await local.waitForIdle();
    const afterStaleCompletion = local.getInstance("reused")?.runtimeStatus;
    await local.raiseEvent("reused", "approve", "frank");
    const status = await local.waitForInstance("reused");

    expect(afterStaleCompletion).toBe("Running");
    expect(status.output).toEqual({ approvedBy: "frank" });
  });

  it("runs many orchestrations interleaved", async () => {
    const local = await start({ maxConcurrentActivities: 4 });

    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => local.startOrchestration(names.sequence, { input: [`c${i}`, `d${i}`] })),
    );
    const statuses = await Promise.all(ids.map((id) => local.waitForInstance(id)));

    expect(statuses.map((s) => s.output)).toEqual(ids.map((_, i) => [`Hello c${i}`, `Hello d${i}`]));
    expect(local.listInstances()).toHaveLength(20);
  });
});
