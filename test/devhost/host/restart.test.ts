import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startAzurite } from "../../../devhost/azurite";
import {
  JsonFileStore,
  MemoryStore,
  startLocalHost,
  TableStore,
  type LocalHost,
  type LocalHostOptions,
} from "../../../devhost/host";
import { names, registerSampleApp } from "./sampleApp";

const directory = mkdtempSync(path.join(tmpdir(), "flowtap-host-"));
const hosts: LocalHost[] = [];

async function start(options: Partial<LocalHostOptions> = {}): Promise<LocalHost> {
  const host = await startLocalHost({
    app: { register: registerSampleApp },
    port: 0,
    clock: { mode: "virtual" },
    ...options,
  });
  hosts.push(host);
  return host;
}

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("local host store and restart", () => {
  it("resumes an instance waiting for an event from a JSON file store", async () => {
    const file = path.join(directory, "waiting.json");
    const first = await start({ store: new JsonFileStore(file), clock: { mode: "virtual", autoAdvance: false } });
    await first.startOrchestration(names.approval, { instanceId: "w1" });
    await first.waitForIdle();
    await first.stop();

    const second = await start({ store: new JsonFileStore(file), clock: { mode: "virtual", autoAdvance: false } });
    await second.raiseEvent("w1", "approve", "dave");
    const status = await second.waitForInstance("w1");

    expect(status.output).toEqual({ approvedBy: "dave" });
  });

  it("resumes an instance from Azure Table storage (Azurite)", async () => {
    const azurite = await startAzurite();
    try {
      const first = await start({
        store: TableStore.fromConnectionString(azurite.connectionString, "hostState"),
        clock: { mode: "virtual", autoAdvance: false },
      });
      await first.startOrchestration(names.approval, { instanceId: "table/1" });
      await first.signalEntity(names.counter, "table", "add", 3);
      await first.waitForIdle();
      await first.stop();

      const second = await start({
        store: TableStore.fromConnectionString(azurite.connectionString, "hostState"),
        clock: { mode: "virtual", autoAdvance: false },
      });
      await second.raiseEvent("table/1", "approve", "erin");
      const status = await second.waitForInstance("table/1");

      expect(status.output).toEqual({ approvedBy: "erin" });
      expect(second.getEntityState(names.counter, "table")).toBe(3);
    } finally {
      await Promise.all(hosts.splice(0).map((h) => h.stop()));
      await azurite.stop();
    }
  });

  it("re-arms a pending durable timer after a restart", async () => {
    const store = new MemoryStore();
    const first = await start({ store, clock: { mode: "virtual", autoAdvance: false } });
    await first.startOrchestration(names.timer, { instanceId: "t1" });
    await first.waitForIdle();
    await first.stop();

    const second = await start({ store });
    const status = await second.waitForInstance("t1");

    expect(status.output).toMatchObject({ greeting: "Hello after the timer" });
  });

  it("re-runs an activity whose completion was lost in a crash, then finishes", async () => {
    const store = new MemoryStore();
    const first = await start({ store });
    const crashed = first.faults.crashAfterActivity(names.hello, { invocation: 2 });
    await first.startOrchestration(names.sequence, { instanceId: "c1", input: ["a", "b", "c"] });
    await crashed;
    const completedBeforeCrash = first.getHistory("c1").filter((e) => e.EventType === 5).length;

    const second = await start({ store });
    const status = await second.waitForInstance("c1");

    expect(completedBeforeCrash).toBe(1);
    expect(status.output).toEqual(["Hello a", "Hello b", "Hello c"]);
    expect(second.faults.activityInvocations(names.hello)).toBe(2);
  });

  it("keeps entity state across a restart", async () => {
    const file = path.join(directory, "entities.json");
    const first = await start({ store: new JsonFileStore(file) });
    await first.signalEntity(names.counter, "persisted", "add", 4);
    await first.waitForIdle();
    await first.stop();

    const second = await start({ store: new JsonFileStore(file) });

    expect(second.getEntityState(names.counter, "persisted")).toBe(4);
  });

  it("delivers a trigger event repeatedly when asked to", async () => {
    const local = await start();
    local.faults.deliverRepeatedly("countDeliveries", 2);

    await local.invokeEventGrid("countDeliveries", { id: "dup-1", eventType: "x", subject: "s" });
    await local.waitForIdle();

    expect(local.getEntityState(names.counter, "dup-1")).toBe(2);
  });

  it("loads the app from a module path, as the Functions host loads package.json main", async () => {
    const local = await start({ app: { modulePath: path.join(__dirname, "sampleModule.ts") } });

    const status = await local.waitForInstance(await local.startOrchestration(names.sequence, { input: ["module"] }));

    expect(status.output).toEqual(["Hello module"]);
  });

  it("names the missing app module when package.json main was not built", async () => {
    await expect(start({ app: { modulePath: path.join(directory, "dist", "app.js") } })).rejects.toThrow(
      /does not exist.*npm run build/,
    );
  });
});
